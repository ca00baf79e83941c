"""From translated roots to training rows: filters, dev hold-out, multi-way and bilingual rows, budgets.

Everything here is pure and seeded: the same inputs and seed give the same rows.
Each random choice has its own ``random.Random("<seed>:<purpose>")`` stream, so
changing one decision (say the dev fraction) does not reshuffle the others.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from mwalign.corpus.backends.base import Translation
from mwalign.corpus.sources import Root
from mwalign.corpus.text import normalise_key

FILTER_REASONS = ("backend_error", "empty", "untranslated", "length_ratio", "unknown_words", "duplicate")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class FilterSettings:
    max_length_ratio: float
    max_unknown_ratio: float
    unknown_ratio_by_language: Mapping[str, float] = field(default_factory=dict)  # overrides per language

    def unknown_limit(self, lang: str) -> float:
        return self.unknown_ratio_by_language.get(lang, self.max_unknown_ratio)


@dataclass
class TranslatedRoot:
    """One English root with its surviving translations (language -> sentence)."""

    root: Root
    translations: dict[str, str] = field(default_factory=dict)


def rejection_reason(source: str, out: Translation, settings: FilterSettings, seen: set[str],
                     lang: str = "") -> str | None:
    """Why a translation into ``lang`` is dropped (one of FILTER_REASONS), or None to keep it."""
    if out.text is None:
        return "backend_error"
    text = out.text.strip()
    key = normalise_key(text)
    if not key:
        return "empty"
    if key == normalise_key(source):
        return "untranslated"
    longer, shorter = max(len(text), len(source)), max(1, min(len(text), len(source)))
    if longer / shorter > settings.max_length_ratio:
        return "length_ratio"
    if out.unknown / max(1, len(_WORD.findall(source))) > settings.unknown_limit(lang):
        return "unknown_words"
    if key in seen:
        return "duplicate"
    return None


def apply_filters(
    roots: list[Root], outputs: dict[str, list[Translation]], settings: FilterSettings
) -> tuple[list[TranslatedRoot], dict[str, dict[str, int]]]:
    """Keep the translations that pass every filter; count drops per language and reason."""
    table = [TranslatedRoot(root) for root in roots]
    drops: dict[str, dict[str, int]] = {}
    for lang, outs in outputs.items():
        counts: Counter = Counter()
        seen: set[str] = set()
        for entry, out in zip(table, outs):
            reason = rejection_reason(entry.root.text, out, settings, seen, lang)
            if reason:
                counts[reason] += 1
                continue
            seen.add(normalise_key(out.text or ""))
            entry.translations[lang] = out.text.strip()
        drops[lang] = {reason: counts.get(reason, 0) for reason in FILTER_REASONS}
    return table, drops


def split_dev(table: list[TranslatedRoot], dev_fraction: float, seed: int) -> tuple[list[TranslatedRoot], list[TranslatedRoot]]:
    """Hold out ``dev_fraction`` of the roots that kept at least one translation; returns (train, dev)."""
    usable = [entry for entry in table if entry.translations]
    n_dev = round(dev_fraction * len(usable))
    dev_ids = {e.root.id for e in random.Random(f"{seed}:dev").sample(usable, n_dev)}
    train = train_split(usable, dev_ids)
    dev = [e for e in usable if e.root.id in dev_ids]
    return train, dev


Row = tuple[str, list[str], list[str]]  # root_id, languages (eng first), sentences


def full_row(entry: TranslatedRoot, pool: list[str]) -> Row:
    """English plus every surviving translation, in pool order."""
    langs = ["eng"] + [lang for lang in pool if lang in entry.translations]
    return _row(entry, langs)


def _row(entry: TranslatedRoot, langs: list[str]) -> Row:
    sentences = [entry.root.text if lang == "eng" else entry.translations[lang] for lang in langs]
    return entry.root.id, langs, sentences


def multiway_rows(train: list[TranslatedRoot], pool: list[str], k: int, n_rows: int, seed: int | str) -> list[Row]:
    """``n_rows`` rows of English + k-1 pool languages drawn uniformly from those available for the root."""
    eligible = [e for e in train if len(e.translations) >= k - 1]
    chosen = random.Random(f"{seed}:multiway-roots").sample(eligible, min(n_rows, len(eligible)))
    chosen.sort(key=lambda e: e.root.id)
    pick = random.Random(f"{seed}:multiway-langs")
    rows = []
    for entry in chosen:
        available = [lang for lang in pool if lang in entry.translations]
        drawn = set(pick.sample(available, k - 1))
        rows.append(_row(entry, ["eng"] + [lang for lang in pool if lang in drawn]))
    return rows


def bilingual_rows(train: list[TranslatedRoot], pool: list[str], seed: int | str) -> list[Row]:
    """One En-X row per root, X drawn uniformly from the pool languages that survived for that root."""
    pick = random.Random(f"{seed}:bilingual-x")
    rows = []
    for entry in sorted(train, key=lambda e: e.root.id):
        available = [lang for lang in pool if lang in entry.translations]
        rows.append(_row(entry, ["eng", pick.choice(available)]))
    return rows


def budgeted_rows(
    train: list[TranslatedRoot], pool: list[str], k: int, budget: str, seed: int | str
) -> tuple[list[Row], list[Row]]:
    """(multiway, bilingual) rows under the budget control.

    equal_pairs: N bilingual rows face N / C(k,2) multi-way rows, so both hold N positive pairs
    (the paper's control, N/6 for k=4). equal_roots: the same English roots in both corpora.
    """
    if budget == "equal_roots":
        eligible = [e for e in train if len(e.translations) >= k - 1]
        return multiway_rows(eligible, pool, k, len(eligible), seed), bilingual_rows(eligible, pool, seed)
    bilingual = bilingual_rows(train, pool, seed)
    n_multiway = max(1, len(bilingual) // math.comb(k, 2))
    return multiway_rows(train, pool, k, n_multiway, seed), bilingual


def draw_seed(corpus_seed: int, training_seed: int) -> int | str:
    """The seed of training seed ``s``'s corpus draw: the corpus stage's own (its Parquet rows) for ``s = 0``,
    else a stream of its own. Only the rows are redrawn (which roots fill the multi-way budget, the X of each
    bilingual row); the roots, translations, filters and dev hold-out stay the corpus stage's."""
    return corpus_seed if training_seed == 0 else f"{corpus_seed}-draw{training_seed}"


def train_split(table: list[TranslatedRoot], dev_ids: set[str]) -> list[TranslatedRoot]:
    """The training roots of ``table`` (in its order) given the dev hold-out: :func:`split_dev`'s ``train``."""
    return [entry for entry in table if entry.translations and entry.root.id not in dev_ids]


def positive_pairs(rows: list[Row]) -> int:
    """Positive pairs the contrastive loss sees: C(len(languages), 2) per row."""
    return sum(math.comb(len(langs), 2) for _, langs, _ in rows)
