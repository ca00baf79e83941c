"""Tables for reading: every table of the book goes through :func:`for_reading` on its way to the page.

Integers print as integers (``402``, not ``402.0``), other numbers with a fixed number of decimals, and a
cell with no value (a model not scored on a task type, an untrained base model's steps) as
:data:`NOT_APPLICABLE`, explained by the table's note. No ``NaN`` reaches a reader, and neither does pandas'
default row index (0, 1, 2, ...): a table whose rows are only numbered is shown without its index. Under the
table comes its reading, what its numbers say (:mod:`mwalign.reporting.readings`), when the function that built
it attached one.
"""

from __future__ import annotations

import hashlib
import html
import numbers
from dataclasses import dataclass

import pandas as pd
from pandas.io.formats.style import Styler

from mwalign.reporting import readings

NOT_APPLICABLE = "—"


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: a value, not a missing one
        return False


def cell_text(value, decimals: int = 1) -> str:
    """One cell as a reader sees it: integers whole, other reals with ``decimals`` places, missing as the marker."""
    if _missing(value):
        return NOT_APPLICABLE
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.{decimals}f}"
    return str(value)


def readable(table: pd.DataFrame, *, decimals: int = 1) -> pd.DataFrame:
    """``table`` with every cell as text (:func:`cell_text`); integer columns holding gaps must be ``Int64``."""
    return table.apply(lambda column: column.map(lambda value: cell_text(value, decimals)).astype(object))


@dataclass(frozen=True)
class ReadingTable:
    """A formatted table: its text cells, the note that explains the marker (empty if no cell holds it) and the
    reading printed under it (empty if none)."""

    cells: pd.DataFrame
    note: str = ""
    show_index: bool = True
    reading: str = ""

    def _repr_html_(self) -> str:
        uuid = hashlib.sha256(self.cells.to_csv().encode()).hexdigest()[:8]  # stable ids: a rerun leaves no diff
        styler = Styler(self.cells, uuid=uuid, cell_ids=False).format(escape="html")
        styler = styler.set_table_attributes('class="dataframe"')
        if not self.show_index:
            styler = styler.hide(axis="index")
        shown = (styler.set_caption(html.escape(self.note)) if self.note else styler).to_html()
        return shown + (f'<p class="mwalign-reading">{html.escape(self.reading)}</p>' if self.reading else "")

    def __repr__(self) -> str:
        return (self.cells.to_string(index=self.show_index) + (f"\n\n{self.note}" if self.note else "")
                + (f"\n\n{self.reading}" if self.reading else ""))


def numbers_rows_only(index: pd.Index) -> bool:
    """Whether ``index`` is pandas' default: unnamed, one level, the rows numbered 0, 1, 2, ..."""
    return (index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index)
            and list(index) == list(range(len(index))))


def for_reading(table: pd.DataFrame, *, decimals: int = 1, note: str = "") -> ReadingTable:
    """The table as the book shows it; ``note`` explains the marker and is kept only when a cell holds it; the
    reading attached to ``table`` (:func:`mwalign.reporting.readings.attach`) follows it."""
    cells = readable(table, decimals=decimals)
    shows_marker = bool((cells == NOT_APPLICABLE).to_numpy().any())
    return ReadingTable(cells, f"{NOT_APPLICABLE} {note}" if note and shows_marker else "",
                        show_index=not numbers_rows_only(table.index), reading=readings.reading_of(table))
