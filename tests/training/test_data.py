"""Training rows: validation of corpus files, the root-unique batch sampler and batch labels."""

from __future__ import annotations

import pandas as pd
import pytest

from mwalign.training.data import LANGUAGE_IDS, RootBatchSampler, make_batch, read_rows, rows_from_frame


def _frame(rows):
    return pd.DataFrame({"root_id": [r[0] for r in rows], "languages": [r[1] for r in rows],
                         "sentences": [r[2] for r in rows]})


def test_sampler_never_puts_a_root_twice_in_a_batch():
    # Given 40 rows over 10 roots (each root 4 times, as in derived k2 variants)
    roots = [f"root{i % 10}" for i in range(40)]
    sampler = RootBatchSampler(roots, batch_size=8, seed=0)
    for epoch in range(3):
        batches = sampler.batches(epoch)
        # Then every batch has distinct roots and each row is used at most once per epoch; only rows left
        # at the end that could pair with nothing but their own root are dropped
        assert all(len({roots[i] for i in batch}) == len(batch) >= 2 for batch in batches), "bad batch"
        used = [i for batch in batches for i in batch]
        assert len(used) == len(set(used)), "each row at most once per epoch"
        dropped = {roots[i] for i in set(range(40)) - set(used)}
        assert len(dropped) <= 1, f"only rows of one last root may be dropped: {dropped}"


def test_sampler_order_is_seeded_per_epoch():
    roots = [f"r{i}" for i in range(20)]
    a, b = RootBatchSampler(roots, 4, seed=1), RootBatchSampler(roots, 4, seed=1)
    assert a.batches(0) == b.batches(0), "same seed and epoch must replay the same batches (resume relies on it)"
    assert a.batches(0) != a.batches(1), "each epoch must reshuffle"


def _quadratic_reference(root_ids, batch_size, seed, epoch):
    """The sampler's first implementation: rescans every pending row for each batch (O(N^2 / B))."""
    import torch

    pending = torch.randperm(len(root_ids), generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    pending, batches = pending.tolist(), []
    while pending:
        batch, roots, deferred = [], set(), []
        for index in pending:
            if len(batch) < batch_size and root_ids[index] not in roots:
                batch.append(index)
                roots.add(root_ids[index])
            else:
                deferred.append(index)
        batches.append(batch)
        pending = deferred
    return [b for b in batches if len(b) >= 2]


@pytest.mark.parametrize("seed", range(6))
def test_linear_planning_gives_the_same_batches_as_the_rescanning_one(seed):
    # Given rows whose roots repeat unevenly (k-variants repeat a root up to 5 times)
    import random

    rng = random.Random(seed)
    roots = [f"r{rng.randrange(60)}" for _ in range(300)]
    sampler = RootBatchSampler(roots, batch_size=rng.choice([2, 5, 8, 16]), seed=seed)
    # When an epoch is planned, Then its batches are those of the rescanning implementation
    for epoch in range(2):
        assert sampler.batches(epoch) == _quadratic_reference(roots, sampler.batch_size, seed, epoch)


def test_no_one_row_batch_survives_when_the_last_rows_share_a_root():
    # Given roots a a a b and batch size 2: after [a, b] only rows of root a are left
    for seed in range(20):
        batches = RootBatchSampler(["a", "a", "a", "b"], batch_size=2, seed=seed).batches(0)
        # Then every batch has at least two rows (the loss needs an in-batch negative)
        assert batches and all(len(batch) >= 2 for batch in batches), batches


def test_an_epoch_is_planned_once_and_len_does_not_replan(monkeypatch):
    sampler = RootBatchSampler([f"r{i}" for i in range(50)], batch_size=4, seed=0)
    calls = []
    plan = sampler._plan
    monkeypatch.setattr(sampler, "_plan", lambda epoch: calls.append(epoch) or plan(epoch))
    for _ in range(5):
        len(sampler), sampler.batches(0), sampler.batches(1), len(sampler)
    assert calls == [0, 1], f"each epoch must be planned once, len() included: {calls}"


def test_sampler_rejects_batch_larger_than_corpus():
    with pytest.raises(ValueError, match="training.batch_size=8 is larger than the corpus"):
        RootBatchSampler(["a", "b", "c"], batch_size=8, seed=0)


def test_batch_labels_carry_row_language_and_sentence_id():
    # Given two rows of different k
    table = rows_from_frame(_frame([("x", ["eng", "spa", "fra"], ["Hi.", "Hola.", "Salut."]),
                                    ("y", ["eng", "deu"], ["Bye.", "Tschüss."])]), "fixture")
    # When rows [1, 0] form a batch with a prompt
    batch = make_batch(table, [1, 0], prompt="query: ")
    # Then texts are flattened in row order with the prompt, labels give (row in batch, language, global id)
    assert batch.texts[0] == "query: Bye." and len(batch.texts) == 5
    assert batch.labels.tolist() == [[0, 0, 3], [0, LANGUAGE_IDS["deu"], 4], [1, 0, 0],
                                     [1, LANGUAGE_IDS["spa"], 1], [1, LANGUAGE_IDS["fra"], 2]]
    assert table.pair_count == 3 + 1


@pytest.mark.parametrize("rows, message", [
    ([("a", ["eng"], ["Hi."])], "root a has 1 language"),
    ([("a", ["eng", "spa"], ["Hi."])], "root a: 2 languages but 1 sentences"),
    ([("a", ["eng", "xxx"], ["Hi.", "Ho."])], "unknown language code 'xxx'"),
    ([("a", ["eng", "spa"], ["Hi.", " "])], "root a has an empty sentence"),
])
def test_bad_rows_are_named(rows, message):
    with pytest.raises(ValueError, match=message):
        rows_from_frame(_frame(rows), "corpus/multiway.parquet")


def test_empty_or_missing_corpus_file(tmp_path):
    _frame([]).to_parquet(tmp_path / "multiway.parquet")
    with pytest.raises(ValueError, match="multiway.parquet: the corpus is empty"):
        read_rows(tmp_path / "multiway.parquet")
    with pytest.raises(FileNotFoundError, match="bilingual.parquet: not found"):
        read_rows(tmp_path / "bilingual.parquet")
    pd.DataFrame({"root_id": ["a"]}).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="missing columns"):
        read_rows(tmp_path / "bad.parquet")


def test_missing_corpus_message_names_a_real_cli_flag(tmp_path):
    # Given no corpus file, When the rows are read, Then the fix it suggests is a stage the CLI accepts
    from mwalign.pipeline import STAGE_NAMES

    with pytest.raises(FileNotFoundError) as info:
        read_rows(tmp_path / "multiway.parquet")
    message = str(info.value)
    assert "mwalign run --only " in message, f"the fix must be a real `mwalign run` flag: {message}"
    suggested = message.split("mwalign run --only ", 1)[1].rstrip(")")
    assert suggested in STAGE_NAMES, f"suggests --only {suggested!r}; stages are {STAGE_NAMES}"


def test_length_grouping_keeps_roots_unique_and_cuts_padding():
    # Given rows with repeated roots and spread-out lengths
    roots = [f"r{i % 60}" for i in range(200)]
    lengths = [(i * 37) % 61 + 3 for i in range(200)]
    plain = RootBatchSampler(roots, 8, seed=5)
    grouped = RootBatchSampler(roots, 8, seed=5, lengths=lengths, group_batches=5)
    # When both plan an epoch
    def padded(batches):
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)
    # Then grouping keeps every batch root-unique, covers every row, and pads far less
    for batches in (plain.batches(0), grouped.batches(0)):
        assert all(len({roots[i] for i in b}) == len(b) for b in batches), "a root appears twice in a batch"
    assert sorted(i for b in grouped.batches(0) for i in b) == list(range(200)), "grouping lost or repeated rows"
    assert padded(grouped.batches(0)) < 0.8 * padded(plain.batches(0)), "grouped batches should pad less"
    assert grouped.batches(1) != grouped.batches(0), "each epoch should group differently"
