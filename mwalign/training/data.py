"""Training rows: reading corpus parquet files, root-unique batches and the loss labels.

A row is one English root with k >= 2 language versions. A batch flattens its rows into one list of
sentences (encoded in one forward pass) plus a (N, 3) label tensor: row index in the batch, language id
(``mwalign.languages`` order, English = 0) and the sentence's global id (for the cached drift reference).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import torch

from mwalign.artifacts import read_parquet
from mwalign import languages

LANGUAGE_IDS: dict[str, int] = {code: i for i, code in enumerate(languages.LANGUAGES)}
assert LANGUAGE_IDS["eng"] == 0, "the loss treats language id 0 as English"

REQUIRED_COLUMNS = ("root_id", "languages", "sentences")


_SLICE = re.compile(r"(?P<base>.*)\[:(?P<n>\d+)\]")


@dataclass(frozen=True)
class RowTable:
    """Validated training rows; ``offsets[i]`` is the global id of row i's first sentence."""

    root_ids: list[str]
    languages: list[list[str]]
    sentences: list[list[str]]
    source: str

    def __len__(self) -> int:
        return len(self.root_ids)

    @cached_property
    def offsets(self) -> list[int]:
        starts, total = [], 0
        for row in self.sentences:
            starts.append(total)
            total += len(row)
        return starts

    @property
    def all_sentences(self) -> list[str]:
        return [s for row in self.sentences for s in row]

    @property
    def pair_count(self) -> int:
        """Unordered positive pairs: sum over rows of C(k, 2)."""
        return sum(len(row) * (len(row) - 1) // 2 for row in self.sentences)

    def head(self, n: int) -> "RowTable":
        """The first ``n`` rows; the source names the slice once (``x.parquet[:300]``, never ``[:300][:300]``)."""
        base, sliced = self.source, _SLICE.fullmatch(self.source)
        if sliced:
            base, n = sliced["base"], min(n, int(sliced["n"]))
        return RowTable(self.root_ids[:n], self.languages[:n], self.sentences[:n], f"{base}[:{n}]")


def rows_from_frame(frame: pd.DataFrame, source: str) -> RowTable:
    """Validate a corpus-schema frame; errors name ``source`` and the offending root."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing columns {missing}; expected {list(REQUIRED_COLUMNS)} (CONTRACTS.md)")
    if len(frame) == 0:
        raise ValueError(f"{source}: the corpus is empty; rerun the corpus stage or raise corpus.n_roots")
    root_ids = [str(r) for r in frame["root_id"]]
    langs = [list(v) for v in frame["languages"]]
    sents = [[str(s) for s in v] for v in frame["sentences"]]
    for root, row_langs, row_sents in zip(root_ids, langs, sents):
        if len(row_langs) != len(row_sents):
            raise ValueError(f"{source}: root {root}: {len(row_langs)} languages but {len(row_sents)} sentences")
        if len(row_langs) < 2:
            raise ValueError(f"{source}: root {root} has {len(row_langs)} language(s); rows need >= 2 translations")
        languages.validate_codes(row_langs, where=f"{source}: root {root}")
        if any(not s.strip() for s in row_sents):
            raise ValueError(f"{source}: root {root} has an empty sentence")
    return RowTable(root_ids, langs, sents, source)


def read_rows(path: Path) -> RowTable:
    """Read ``corpus/<name>.parquet`` (root_id, languages, sentences) into validated rows."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; run the corpus stage first (mwalign run --only data)")
    return rows_from_frame(read_parquet(path, "corpus rows", rebuild="mwalign corpus"), str(path))


class RootBatchSampler:
    """Seeded batches of row indices in which no English root appears twice.

    The order depends only on (seed, epoch), so a resumed run replays the same batches. A row whose root
    is already in the open batch waits for the next one, ahead of the rows not yet reached. A batch of
    fewer than 2 rows (possible only once the rows left share roots) is dropped: in-batch negatives
    need two rows.

    An epoch is planned once, in time linear in the rows (plus one pass per deferral), and kept until
    another epoch is asked for; ``len()`` reuses the plan of epoch 0.
    """

    def __init__(self, root_ids: list[str], batch_size: int, seed: int, *, where: str = "training.batch_size",
                 lengths: list[int] | None = None, group_batches: int = 50):
        distinct = len(set(root_ids))
        if batch_size < 2:
            raise ValueError(f"{where}={batch_size}: must be >= 2 for in-batch negatives")
        if batch_size > distinct:
            raise ValueError(f"{where}={batch_size} is larger than the corpus ({distinct} distinct roots); "
                             "lower the batch size or use a bigger corpus")
        if lengths is not None and len(lengths) != len(root_ids):
            raise ValueError(f"RootBatchSampler: {len(lengths)} lengths for {len(root_ids)} rows")
        self.root_ids, self.batch_size, self.seed = root_ids, batch_size, seed
        self.lengths, self.group_batches = lengths, group_batches
        self._planned: dict[int, list[list[int]]] = {}

    def batches(self, epoch: int) -> list[list[int]]:
        if epoch not in self._planned:
            self._planned = {0: self._planned[0]} if 0 in self._planned else {}  # keep len()'s plan only
            self._planned[epoch] = self._plan(epoch)
        return self._planned[epoch]

    def _plan(self, epoch: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.root_ids), generator=generator).tolist()
        if self.lengths is not None:
            order = self._grouped(order)
        pending = deque(order)
        batches: list[list[int]] = []
        while pending:
            batch, roots, deferred = [], set(), []
            while pending and len(batch) < self.batch_size:
                index = pending.popleft()
                if self.root_ids[index] in roots:
                    deferred.append(index)
                else:
                    batch.append(index)
                    roots.add(self.root_ids[index])
            pending.extendleft(reversed(deferred))  # deferred rows go first, in their order
            if len(batch) >= 2:
                batches.append(batch)
        if self.lengths is not None:  # grouped batches come longest first; shuffle them (same generator)
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        return batches

    def _grouped(self, order: list[int]) -> list[int]:
        """transformers' ``group_by_length``: megabatches of ``group_batches`` batches, each sorted by length.

        Batches are then cut from this order as usual, so root-uniqueness holds and similar lengths share a
        batch (less padding); the random megabatch split keeps every epoch's batches different.
        """
        size = self.batch_size * self.group_batches
        lengths = self.lengths
        return [i for start in range(0, len(order), size)
                for i in sorted(order[start : start + size], key=lambda i: -lengths[i])]

    def __len__(self) -> int:
        return len(self.batches(0))


@dataclass(frozen=True)
class Batch:
    texts: list[str]
    labels: torch.Tensor  # (N, 3) long: row in batch, language id, global sentence id
    root_ids: list[str]

    @property
    def n_rows(self) -> int:
        return len(self.root_ids)


def make_batch(table: RowTable, indices: list[int], prompt: str | None = None) -> Batch:
    """Flatten rows ``indices`` of ``table`` into texts and (row, language, sentence id) labels."""
    offsets = table.offsets
    texts, labels = [], []
    for position, index in enumerate(indices):
        for j, (code, sentence) in enumerate(zip(table.languages[index], table.sentences[index])):
            texts.append(f"{prompt}{sentence}" if prompt else sentence)
            labels.append((position, LANGUAGE_IDS[code], offsets[index] + j))
    return Batch(texts, torch.tensor(labels, dtype=torch.long), [table.root_ids[i] for i in indices])
