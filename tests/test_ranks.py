"""One rank/world reading: torchrun's variables before a process group exists, the group once it does."""

from __future__ import annotations

from mwalign.ranks import rank_and_world


def test_plain_process_is_rank_0_of_1(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert rank_and_world() == (0, 1)


def test_torchrun_variables_give_the_rank_before_a_group_exists(monkeypatch):
    # Given torchrun's variables and no initialised process group (the corpus builder shards this way)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    # Then the rank and world size are torchrun's, for the corpus and the trainer alike
    from mwalign.corpus import translate
    from mwalign.training import distributed

    assert rank_and_world() == (1, 3)
    assert translate.rank_and_world is distributed.rank_and_world is rank_and_world, "one helper, not two"
    assert distributed.local_share(list(range(6))) == [1, 4], "rank 1 of 3 takes rows 1, 4"
