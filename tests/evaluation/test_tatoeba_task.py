"""The mirror-backed Tatoeba task: official identity, mirror reading, bad files, hub fallback, equivalence."""

from __future__ import annotations

import mteb
import pytest
from mteb.tasks.bitext_mining.multilingual.tatoeba_bitext_mining import TatoebaBitextMining

from mwalign.evaluation.tasks import get_task
from mwalign.evaluation.tasks.hub import HubUnavailableError
from mwalign.evaluation.tasks.mirror import MirrorDataError

from .conftest import ENGLISH_ROWS, TATOEBA_ROWS


def test_task_keeps_official_metadata():
    # Given our task and mteb's official one
    ours, official = get_task("Tatoeba"), mteb.get_task("Tatoeba")
    # Then name, subsets, split and main score are the official ones
    assert ours.metadata == official.metadata, "metadata must be mteb's, unchanged"
    assert ours.metadata.main_score == "f1" and list(ours.eval_splits) == ["test"], "f1 on test"
    assert len(ours.metadata.hf_subsets) == 112 and "spa-eng" in ours.metadata.hf_subsets, "112 xxx-eng subsets"


def test_loads_line_aligned_mirror(tiny_mirror):
    # Given a 4-row mirror; When the spa-eng subset loads
    task = get_task("Tatoeba")
    task.hf_subsets = ["spa-eng"]
    task.load_data()
    # Then sentence1 is the xxx side and sentence2 English, in file order
    data = task.dataset["spa-eng"]["test"]
    assert data["sentence1"] == TATOEBA_ROWS["spa"], "sentence1 must be the non-English file"
    assert data["sentence2"] == ENGLISH_ROWS, "sentence2 must be the English file"


def test_unequal_line_counts_name_both_files(tiny_mirror):
    # Given an English side that lost a line
    eng = tiny_mirror / "tatoeba" / "tatoeba.fra-eng.eng"
    eng.write_text("\n".join(ENGLISH_ROWS[:3]) + "\n", encoding="utf-8")
    task = get_task("Tatoeba")
    task.hf_subsets = ["fra-eng"]
    # Then loading fails naming the files and both counts
    with pytest.raises(MirrorDataError, match=r"tatoeba\.fra-eng\.fra has 4 lines but .*tatoeba\.fra-eng\.eng has 3"):
        task.load_data()


@pytest.mark.parametrize("content", [None, ""], ids=["missing", "truncated-to-empty"])
def test_missing_or_empty_file_is_named(tiny_mirror, content):
    # Given a missing or empty German file
    path = tiny_mirror / "tatoeba" / "tatoeba.deu-eng.deu"
    path.unlink() if content is None else path.write_text(content)
    task = get_task("Tatoeba")
    task.hf_subsets = ["deu-eng"]
    # Then the error names that file
    with pytest.raises(MirrorDataError, match=r"tatoeba\.deu-eng\.deu: (missing|empty)"):
        task.load_data()


def test_absent_mirror_defers_to_mteb_hub_loading(tmp_path, monkeypatch):
    # Given no data dir, and mteb's hub loader replaced by a probe that fails like an offline hub
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(tmp_path / "nowhere"))
    calls = []

    def offline_load(self, *args, **kwargs):
        calls.append(self.metadata.name)
        raise ConnectionError("Couldn't reach 'mteb/tatoeba-bitext-mining' on the Hub\nlong trace")

    monkeypatch.setattr(TatoebaBitextMining, "load_data", offline_load)
    # When our task loads, Then mteb's own loader was asked and the failure is one line naming the task
    with pytest.raises(HubUnavailableError, match=r"^Tatoeba: no data mirror .*Couldn't reach") as err:
        get_task("Tatoeba").load_data()
    assert calls == ["Tatoeba"], "the hub path must be mteb's own load_data"
    assert "\n" not in str(err.value), "offline error must be one line"
