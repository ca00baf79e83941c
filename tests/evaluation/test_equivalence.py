"""Our mirror tasks hold mteb's official rows (mteb's own record of them), and score like mteb's own classes.

The record is ``task.metadata.descriptive_stats``: what mteb computed on its hub
copy (samples per subset and split, text lengths, distinct texts, label
counts). It is independent of our loading, so a mis-parsed mirror fails here.
"""

from __future__ import annotations

import shutil

import mteb
import pytest
from mteb.tasks.bitext_mining.multilingual.tatoeba_bitext_mining import TatoebaBitextMining
from mteb.tasks.classification.multilingual.sib200_classification import SIB200Classification as OfficialSIB
from mteb.tasks.sts.multilingual.sts17_crosslingual_sts import STS17Crosslingual
from sentence_transformers import SentenceTransformer

from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.evaluation.harness import CachingEncoder
from mwalign.evaluation.official_data import differences
from mwalign.evaluation.tasks import get_task
from mwalign.evaluation.tasks.ntrex import CLEAN_NAME

# Every mirror task under an official name, on every subset (None) or, where that takes minutes, a sample.
OFFICIAL_CASES = [
    ("Tatoeba", None),
    ("STS17", None),
    ("STSBenchmarkMultilingualSTS", None),
    ("AmazonCounterfactualClassification", None),
    ("AfriSentiClassification", None),
    ("MultiHateClassification", None),
    ("SIB200Classification", ["spa_Latn", "deu_Latn", "kor_Hang", "acm_Arab", "yor_Latn"]),
    ("SIB200ClusteringS2S", ["spa_Latn", "kor_Hang"]),
    ("NTREXBitextMining", ["eng_Latn-spa_Latn", "deu_Latn-eng_Latn", "eng_Latn-zho_Hans", "fra_Latn-arb_Arab",
                           "amh_Ethi-hau_Latn"]),
    pytest.param("SIB200Classification", None, marks=pytest.mark.slow),  # 197 subsets x 3 splits: ~30 s
    pytest.param("SIB200ClusteringS2S", None, marks=pytest.mark.slow),
]


def _scored_splits(task) -> list[str]:
    """The splits a score depends on: the evaluation splits, plus the training split of a classifier."""
    splits = list(task.metadata.eval_splits)
    train = getattr(task, "train_split", None)
    return splits + [train] if task.metadata.type == "Classification" and train not in splits else splits


def _all_differences(task) -> list[str]:
    return [d for subset in task.hf_subsets for split in _scored_splits(task) for d in differences(task, split, subset)]


@pytest.mark.parametrize(("name", "subsets"), OFFICIAL_CASES)
def test_mirror_rows_equal_mteb_record_of_official_rows(real_mirror, name, subsets):
    # Given an official-name task on its subsets, loaded from the mirror
    task = get_task(name)
    task.hf_subsets = subsets or task.hf_subsets
    task.load_data()
    # When its rows are described with mteb's own statistics code
    found = _all_differences(task)
    # Then nothing differs from mteb's record of the official rows (beyond the text differences the task documents)
    assert not found, f"{len(found)} differences from mteb's official record, e.g. {found[:3]}"


def test_a_misparsed_mirror_is_caught(real_mirror, tmp_path, monkeypatch):
    # Given a mirror copy where one AfriSenti label is wrong and one STS17 pair is swapped
    shutil.copytree(real_mirror / "afrisenti", tmp_path / "afrisenti")
    shutil.copytree(real_mirror / "sts17", tmp_path / "sts17")
    tsv = tmp_path / "afrisenti" / "data" / "amh" / "test.tsv"
    header, first, *rest = tsv.read_text(encoding="utf-8").split("\n")
    text, label = first.rsplit("\t", 1)
    tsv.write_text("\n".join([header, f"{text}\t{'neutral' if label != 'neutral' else 'positive'}", *rest]), "utf-8")
    pairs = tmp_path / "sts17" / "STS2017.eval.v1.1" / "STS.input.track5.en-en.txt"
    lines = pairs.read_text(encoding="utf-8").split("\n")
    lines[0] = "\t".join(reversed(lines[0].split("\t")))
    pairs.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(tmp_path))
    afrisenti, sts = get_task("AfriSentiClassification"), get_task("STS17")
    afrisenti.hf_subsets, sts.hf_subsets = ["amh"], ["en-en"]
    afrisenti.load_data()
    sts.load_data()
    # Then the comparison names the label counts and the two sides' text lengths
    assert any("label_statistics.labels" in d for d in differences(afrisenti, "test", "amh")), "label change missed"
    assert any("text1_statistics" in d for d in differences(sts, "test", "en-en")), "swapped columns missed"


def test_ntrex_clean_keeps_official_rows_without_exclusion(real_mirror):
    # Given the renamed NTREX task with no training sentences to exclude
    task = get_task(CLEAN_NAME)
    task.hf_subsets = ["eng_Latn-spa_Latn"]
    task.load_data()
    # Then its rows are the official ones and its revision says all 1,997 lines were kept
    found = differences(task, "test", "eng_Latn-spa_Latn", official=get_task("NTREXBitextMining"))
    assert not found, f"with nothing excluded the clean task must hold the official rows: {found[:3]}"
    assert "+keep-1997-" in task.metadata.revision, "the revision records the kept lines"


def test_ntrex_clean_drops_training_documents_and_says_so(real_mirror):
    # Given the first English NTREX sentence as a training sentence
    first = "Welsh AMs worried about 'looking like muppets'"
    task = get_task(CLEAN_NAME)
    task.hf_subsets, task.exclude_sentences = ["spa_Latn-eng_Latn"], frozenset({first})
    task.load_data()
    # Then its whole document is gone, the rest stays aligned, and the revision counts the kept lines
    english = task.dataset["test"]["eng_Latn"]
    assert first not in english and 1900 < len(english) < 1997, "the document of the training sentence is dropped"
    assert f"+keep-{len(english)}-" in task.metadata.revision, "the result's dataset revision names the kept rows"
    official_revision = get_task("NTREXBitextMining").metadata.revision
    assert task.metadata.name == CLEAN_NAME and task.metadata.revision.startswith(official_revision + "+keep-")


def test_official_ntrex_refuses_to_score_training_documents(real_mirror):
    # Given the official NTREX task and a training corpus holding one of its sentences
    task = get_task("NTREXBitextMining")
    task.hf_subsets = ["spa_Latn-eng_Latn"]
    task.exclude_sentences = frozenset({"Welsh AMs worried about 'looking like muppets'"})
    # Then loading fails and names the task to use instead
    with pytest.raises(ValueError, match=rf"NTREXBitextMining: \d+ of 1997 NTREX lines .* use {CLEAN_NAME}"):
        task.load_data()


CASES = [
    ("Tatoeba", TatoebaBitextMining, "spa-eng"),
    ("STS17", STS17Crosslingual, "es-en"),
    pytest.param("SIB200Classification", OfficialSIB, "spa_Latn", marks=pytest.mark.slow),  # ~70 s: 30 classifiers
]


@pytest.mark.parametrize(("name", "official_cls", "subset"), CASES, ids=["Tatoeba", "STS17", "SIB200Classification"])
def test_harness_scores_like_mteb_plain_wrapper(real_mirror, tiny_model, tmp_path, name, official_cls, subset):
    # Given our task on one real subset (its rows checked above), and the official class fed the same rows
    ours = get_task(name)
    ours.hf_subsets = [subset]
    ours.load_data()
    official = official_cls()
    official.hf_subsets = [subset]
    official.dataset, official.data_loaded = ours.dataset, True
    # When the official task runs through mteb's plain SentenceTransformer wrapper and ours through the harness (fp32)
    plain = mteb.evaluate(SentenceTransformer(str(tiny_model), device="cpu"), official, cache=None,
                          show_progress_bar=False, co2_tracker=False)
    encoder = CachingEncoder(tiny_model, label="tiny", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="fp32",
                             max_seq_length=64)
    harnessed = mteb.evaluate(encoder, ours, cache=None, show_progress_bar=False, co2_tracker=False)
    # Then every split's main score is identical
    for split in ours.eval_splits:
        expected = plain.task_results[0].scores[split][0]["main_score"]
        got = harnessed.task_results[0].scores[split][0]["main_score"]
        assert got == pytest.approx(expected, abs=1e-5), f"{name}/{subset}/{split}: same data + model, same score"
