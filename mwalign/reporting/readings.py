"""What a table or figure shows, in words generated from its numbers, carried with it to the page.

A function that builds a table attaches its reading (:func:`attach`); :func:`mwalign.reporting.tables.for_reading`
prints it under the table. A figure's reading waits (:func:`attach_figure`) until the caption under the figure
(:class:`mwalign.reporting.provenance.Captions`) prints it, since a notebook shows a figure only when its cell
ends. So a chapter's cells stay as they are (``tables.for_reading(x.table(data))``, ``fig = x.plot(data)``,
``caption()``) and every table and figure is followed by what it shows.

A reading belongs to the table it was made for: a table derived from it (filtered rows, other columns) does
not inherit it, though pandas copies ``attrs`` along (:func:`reading_of` checks the rows and the names).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

_ATTR = "mwalign_reading"
_pending: list[str] = []  # the reading of the figure drawn last, until its caption prints it


def _shape(table: pd.DataFrame) -> tuple[int, frozenset[str]]:
    """Rows and column/index names: equal for a table and its ``set_index`` / ``reset_index``, unequal for a
    table with other rows or columns."""
    names = [*map(str, table.columns), *(str(n) for n in table.index.names if n is not None)]
    return len(table), frozenset(names)


def attach(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """``table`` with ``text`` as its reading (the same object, returned for chaining)."""
    table.attrs[_ATTR] = (text, _shape(table))
    return table


def reading_of(table: pd.DataFrame) -> str:
    """The reading attached to ``table`` itself ("" if none, or if it was attached to another table)."""
    attached: Any = table.attrs.get(_ATTR)
    if not attached:
        return ""
    text, shape = attached
    return text if shape == _shape(table) else ""


def attach_figure(fig, text: str):
    """``fig`` (returned), with ``text`` waiting for the caption printed under it."""
    _pending[:] = [text]
    return fig


def take_figure_reading() -> str:
    """The reading of the figure drawn last ("" if none waits); it is printed once."""
    text = _pending[0] if _pending else ""
    _pending.clear()
    return text


def join(parts: list[str], empty: str) -> str:
    """Clauses as one sentence ("; "-separated, a final full stop), or ``empty`` when there are none."""
    parts = [p for p in parts if p]
    return "; ".join(parts) + "." if parts else empty
