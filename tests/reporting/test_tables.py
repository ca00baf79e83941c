"""Tables for reading: whole integers, one-decimal scores, an explained marker and never a NaN."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from mwalign import config
from mwalign.reporting import results, tables, training_curves


def _shown(table: tables.ReadingTable) -> str:
    """What a reader of the book gets: the HTML the page shows and the plain-text fallback."""
    return table._repr_html_() + "\n" + repr(table)


def test_missing_cells_show_the_marker_and_its_note_never_nan():
    # Given a score table where one model was not scored on one task type (pandas fills NaN)
    table = pd.DataFrame({"BitextMining": [88.64, 13.52], "STS": [np.nan, 48.1]}, index=["me5-small", "minilm-en"])
    # When it is formatted for reading
    shown = tables.for_reading(table, note="not evaluated: mE5 is scored on Tatoeba only.")
    # Then the gap is the marker, explained by the note, and no NaN is left in HTML or text
    assert shown.cells.loc["me5-small", "STS"] == tables.NOT_APPLICABLE
    assert "nan" not in _shown(shown).lower(), "a NaN reached the rendered table"
    assert "<caption>— not evaluated: mE5 is scored on Tatoeba only.</caption>" in shown._repr_html_()


def test_note_is_left_out_when_no_cell_needs_it():
    # Given a complete table and a note
    shown = tables.for_reading(pd.DataFrame({"STS": [48.1]}), note="not evaluated")
    # Then no caption explains a marker that is not there
    assert shown.note == "" and "<caption>" not in shown._repr_html_()


def test_scores_have_one_decimal_and_counts_stay_whole():
    # Given a float score, a count and a nullable count with a gap
    table = pd.DataFrame({"score": [13.5361, 2.0], "seeds": [3, 1], "rows": pd.array([402, None], dtype="Int64")})
    # When formatted (and with two decimals when asked)
    cells = tables.readable(table)
    # Then scores have one decimal (2.0 stays a score), counts print whole and the gap is the marker
    assert cells["score"].tolist() == ["13.5", "2.0"]
    assert cells["seeds"].tolist() == ["3", "1"]
    assert cells["rows"].tolist() == ["402", tables.NOT_APPLICABLE]
    assert tables.readable(table, decimals=2)["score"].tolist() == ["13.54", "2.00"]


def test_models_table_counts_print_as_integers_beside_the_untrained_base(tmp_path):
    # Given a run whose index lists an untrained base model (no seed) and a trained one
    (tmp_path / "models" / "m-s0").mkdir(parents=True)
    index = [{"label": "m-base", "role": "unaligned", "method": "base", "seed": None, "dtype": "bf16", "path": "x"},
             {"label": "m-s0", "role": "unaligned", "method": "multiway", "seed": 0, "dtype": "bf16",
              "path": "models/m-s0"}]
    (tmp_path / "models" / "index.json").write_text(json.dumps(index))
    record = {"rows": 402, "pairs": 2412, "steps": 26, "best_step": None, "best_dev_metric": None}
    (tmp_path / "models" / "m-s0" / "mwalign_training.json").write_text(json.dumps(record))
    # When the chapter's model table is formatted for reading
    cells = tables.for_reading(training_curves.models_table(tmp_path), note=training_curves.NOT_TRAINED_NOTE).cells
    # Then the trained model's counts are whole numbers (not 402.0) and the base model's are the marker
    assert cells.loc["m-s0", ["seed", "rows", "positive pairs", "steps"]].tolist() == ["0", "402", "2412", "26"]
    assert cells.loc["m-base", "rows"] == tables.NOT_APPLICABLE
    assert cells.loc["m-s0", "best step"] == tables.NOT_APPLICABLE


def test_not_scored_note_names_the_roles_scored_on_fewer_tasks():
    # Given the cpu profile, which scores mE5 on bitext mining only
    cfg = config.load_config("cpu")
    # Then the note under its tables says so, from the profile's own setting
    note = results.not_scored_note(cfg)
    assert f"mE5 on {', '.join(cfg.evaluation.role_tasks['me5'])} only" in note
    assert "evaluation.role_tasks" in note


def test_pandas_default_row_numbers_are_not_shown_but_a_meaningful_index_is():
    # Given a table whose rows are only numbered (pandas' default index), and the same rows indexed by model
    numbered = pd.DataFrame({"model": ["me5-small", "minilm-en"], "gain %": [1.7, -5.4]})
    # When both are formatted for reading
    plain, indexed = tables.for_reading(numbered), tables.for_reading(numbered.set_index("model"))
    # Then the numbered one shows no 0, 1 column, in HTML or text, and the indexed one keeps its model labels
    assert "row_heading" not in plain._repr_html_() and 'class="blank' not in plain._repr_html_()
    assert repr(plain).splitlines()[1].split() == ["me5-small", "1.7"]
    assert '<th class="row_heading level0 row0" >me5-small</th>' in indexed._repr_html_()
    # And an index of numbers that is not a plain count (seeds 1 and 2, or a named one) stays
    assert tables.for_reading(numbered.set_axis([1, 2])).show_index
    assert tables.for_reading(numbered.rename_axis("seed")).show_index
