"""Every registered task loads its real mirror subset with mteb's official identity and mteb's own data statistics."""

from __future__ import annotations

import logging
import shutil
import warnings

import mteb
import pytest

from mwalign.evaluation.tasks import TASK_NAMES, get_task
from mwalign.evaluation.tasks.mirror import MirrorDataError
from mwalign.evaluation.tasks.ntrex import CLEAN_NAME, XY_NAME

# (task, subset, split, text column): mteb's descriptive stats of its hub copy must match the mirror's.
CASES = [
    ("Tatoeba", "deu-eng", "test", "sentence1"),
    ("STS17", "en-tr", "test", "sentence1"),
    ("STSBenchmarkMultilingualSTS", "de", "test", "sentence1"),
    ("SIB200Classification", "spa_Latn", "test", "text"),
    ("AmazonCounterfactualClassification", "de", "validation", "text"),
    ("AfriSentiClassification", "amh", "test", "text"),
    ("MultiHateClassification", "ara", "test", "text"),
]


def _hub_stats(task, subset: str, split: str) -> dict:
    return task.metadata.descriptive_stats[split]["hf_subset_descriptive_stats"][subset]


@pytest.mark.parametrize(("name", "subset", "split", "column"), CASES, ids=[c[0] for c in CASES])
def test_mirror_matches_mteb_hub_statistics(real_mirror, name, subset, split, column):
    # Given our task restricted to one subset
    task = get_task(name)
    assert task.metadata == mteb.get_task(name).metadata, f"{name}: metadata must be mteb's, unchanged"
    task.hf_subsets = [subset]
    # When it loads from the mirror
    task.load_data()
    data = task.dataset[subset][split]
    stats = _hub_stats(task, subset, split)
    # Then size, text length and label distribution equal mteb's statistics of its hub copy
    assert len(data) == stats["num_samples"], f"{name}/{subset}/{split}: row count must equal mteb's"
    text_stats = stats.get("text_statistics") or stats.get("sentence1_statistics") or stats.get("text1_statistics")
    if name != "Tatoeba":  # Tatoeba's hub copy keeps a trailing newline per line (module docstring)
        assert sum(map(len, data[column])) == text_stats["total_text_length"], f"{name}: texts must equal mteb's"
    labels = (stats.get("label_statistics") or {}).get("labels")
    if labels:
        counts = {str(k): sum(1 for x in data["label"] if x == k) for k in set(data["label"])}
        assert counts == {k: v["count"] for k, v in labels.items()}, f"{name}: label ids/counts must equal mteb's"


def test_ntrex_and_sib_bitext_are_multiway(real_mirror):
    # Given the two multi-way bitext tasks on one pair each
    ntrex, sib = get_task("NTREXBitextMining"), get_task("SIB200BitextMining")
    ntrex.hf_subsets, sib.hf_subsets = ["spa_Latn-deu_Latn"], ["spa_Latn-deu_Latn"]
    ntrex.load_data()
    sib.load_data()
    # Then both hold one aligned column per language (NTREX 1,997 lines, SIB 1,004 FLORES sentences)
    assert ntrex.dataset["test"].column_names == ["deu_Latn", "spa_Latn"] and len(ntrex.dataset["test"]) == 1997
    assert len(sib.dataset["test"]) == 1004 and set(sib.dataset["test"].column_names) == {"spa_Latn", "deu_Latn"}
    assert len(sib.metadata.hf_subsets) == 205 * 204, "any ordered pair of the 205 SIB-200 languages"


def test_sts_scores_outside_range_are_named(real_mirror, tmp_path, monkeypatch):
    # Given an STS17 gold file with a score of 7 on a 0-5 scale
    shutil.copytree(real_mirror / "sts17", tmp_path / "sts17")
    gold = tmp_path / "sts17" / "STS2017.gs" / "STS.gs.track3.es-es.txt"
    lines = gold.read_text().splitlines()
    gold.write_text("\n".join(["7.0", *lines[1:]]) + "\n")
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(tmp_path))
    task = get_task("STS17")
    task.hf_subsets = ["es-es"]
    with pytest.raises(MirrorDataError, match=r"STS.gs.track3.es-es.txt: score 7.0 outside the declared range \[0, 5\]"):
        task.load_data()


OWN_NAMES = {"SIB200BitextMining", CLEAN_NAME, XY_NAME}  # mwalign's own tasks: changed data, own name


def test_every_registered_task_has_official_or_own_name():
    official = {t.metadata.name for t in mteb.get_tasks(tasks=[n for n in TASK_NAMES if n not in OWN_NAMES])}
    assert official == set(TASK_NAMES) - OWN_NAMES, "registry names must be mteb's official names"
    assert not OWN_NAMES & {t.metadata.name for t in mteb.get_tasks()}, "own names must not be official mteb names"


# (task, subset, split): one subset of every classification task, binary and multi-class.
CLASSIFICATION_CASES = [
    ("SIB200Classification", "spa_Latn", "test"),
    ("AmazonCounterfactualClassification", "de", "validation"),
]


@pytest.mark.parametrize(("name", "subset", "split"), CLASSIFICATION_CASES, ids=[c[0] for c in CLASSIFICATION_CASES])
def test_classification_scores_equal_mteb_own_scoring(real_mirror, tiny_model, tmp_path, name, subset, split):
    from mwalign.evaluation.embedding_cache import EmbeddingCache
    from mwalign.evaluation.harness import CachingEncoder

    # Given our task (labels read once as arrays) and mteb's own class on the same loaded rows
    ours = get_task(name)
    ours.hf_subsets = [subset]
    ours.load_data()
    official = mteb.get_task(name)
    official.hf_subsets, official.dataset, official.data_loaded = [subset], ours.dataset, True
    encoder = CachingEncoder(tiny_model, label="tiny", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="fp32")
    # When both score the same embeddings (10 undersampled experiments each)
    kwargs = {"encode_kwargs": {"batch_size": 64}}
    mine, theirs = ours.evaluate(encoder, split, **kwargs)[subset], official.evaluate(encoder, split, **kwargs)[subset]
    # Then every experiment drew the same training rows and every metric is identical
    assert mine["scores_per_experiment"] == theirs["scores_per_experiment"], f"{name}: per-experiment scores differ"
    assert mine["main_score"] == theirs["main_score"] and 0 < mine["main_score"] <= 1


def test_sib200_v1_runs_without_a_superseded_warning(caplog):
    # Given SIB200Classification, which mteb marks superseded by v2 (14 labels the mirror does not hold)
    task = get_task("SIB200Classification")
    assert task.metadata.name == "SIB200Classification" and task.superseded_by == "SIB200Classification.v2"
    # When mteb.evaluate makes its superseded check, Then no warning and no WARNING log line reach a chapter
    with warnings.catch_warnings(), caplog.at_level(logging.INFO):
        warnings.simplefilter("error")
        task.check_if_dataset_is_superseded()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "v1 is deliberate: no warning"
    assert any("v1 on purpose" in r.getMessage() for r in caplog.records), "the choice is still logged"


def test_non_utf8_line_in_a_mirror_file_names_file_and_line(tiny_mirror):
    # Given a Tatoeba mirror file with a Latin-1 byte on its third line
    from mwalign.evaluation.tasks import get_task
    from mwalign.datafiles import DataFileError

    bad = tiny_mirror / "tatoeba" / "tatoeba.spa-eng.spa"
    bad.write_bytes(b"El gato duerme.\nTengo hambre.\n\xbfD\xf3nde est\xe1 la estaci\xf3n?\nMe gusta leer libros.\n")
    task = get_task("Tatoeba")
    task.hf_subsets = ["spa-eng"]
    # When the task reads its data, Then one line names the file and the line
    with pytest.raises(DataFileError, match=rf"{bad}: line 3 is not UTF-8"):
        task.load_data()
