"""English root sentences: pluggable sources, cleaning, de-duplication and evaluation-set exclusion.

Every source yields :class:`Root` objects with a stable id (``<source>:<doc>:<sentence>``)
and clean single-line text. Offline sources read files shipped by registry
packages (gensim's test data on PyPI, Debian's wordnet-base); ``opus`` reads the
English side of an OPUS corpus through ``datasets`` and needs a model hub.
No root may come from an evaluation set: :func:`evaluation_keys` collects every
English sentence of the mirrored evaluation data, and :func:`clean_roots` drops
anything that matches after normalisation.
"""

from __future__ import annotations

import bz2
import importlib.metadata
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mwalign import hub, languages
from mwalign.config import CorpusConfig, data_dir
from mwalign.corpus.exclusion import evaluation_keys
from mwalign.corpus.text import clean_text, normalise_key


class SourceError(RuntimeError):
    """A source that is missing or unreachable; the message names it and how to install it."""


@dataclass(frozen=True)
class Root:
    """One English sentence that every translation of a row descends from."""

    id: str
    text: str


# Sentence splitting: end punctuation (+ closing quote) then space then a capital/quote/digit,
# unless the word before the full stop is a known abbreviation or an initial ("J. Smith").
_BOUNDARY = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr gen col lt sgt capt prof rev gov sen rep inc co corp ltd vs no mt ft u.s u.n e.g i.e".split()
)


def split_sentences(paragraph: str) -> list[str]:
    """Split running text into sentences without breaking at ``Mr.`` or initials."""
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(paragraph):
        before = paragraph[start : match.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if paragraph[match.start()] == "." and (last in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last)):
            continue
        sentences.append(paragraph[start : match.end()].strip())
        start = match.end()
    sentences.append(paragraph[start:].strip())
    return [s for s in sentences if s]


def decode_lines(raw: bytes, where: str, drops: Counter) -> Iterator[tuple[int, str]]:
    """Decode a file line by line; a line that is not UTF-8 is dropped and counted, not fatal."""
    for number, line in enumerate(raw.splitlines()):
        try:
            yield number, line.decode("utf-8")
        except UnicodeDecodeError:
            drops["not_utf8"] += 1


def _gensim_file(name: str) -> Path:
    try:
        dist = importlib.metadata.distribution("gensim")
    except importlib.metadata.PackageNotFoundError:
        raise SourceError("corpus.source: gensim sources need `pip install gensim==4.4.0` (its test data)") from None
    path = Path(str(dist.locate_file(f"gensim/test/test_data/{name}")))
    if not path.is_file():
        raise SourceError(f"corpus.source: {path} is missing from gensim {dist.version}; reinstall gensim==4.4.0")
    return path


def gensim_lee(drops: Counter) -> Iterator[Root]:
    """Lee news corpus (Lee, Pincombe & Welsh 2005) from gensim's test data: one document per line."""
    for tag, name in (("lee-bg", "lee_background.cor"), ("lee", "lee.cor")):
        for doc, line in decode_lines(_gensim_file(name).read_bytes(), name, drops):
            for i, sentence in enumerate(split_sentences(line)):
                yield Root(f"{tag}:{doc:03d}:{i:02d}", sentence)


_WIKI_PROSE = re.compile(r"^[A-Z][^|{}\[\]=<>]*[.!?]$")


def gensim_wiki(drops: Counter) -> Iterator[Root]:
    """The shortened English Wikipedia dump in gensim's test data, markup removed by gensim's filter_wiki."""
    from gensim.corpora.wikicorpus import filter_wiki  # heavy import, only for this source

    path = _gensim_file("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    with bz2.open(path) as stream:
        for _, elem in ET.iterparse(stream):
            if not elem.tag.endswith("}page"):
                continue
            title = next((e.text for e in elem.iter() if e.tag.endswith("}title")), "") or ""
            text = next((e.text for e in elem.iter() if e.tag.endswith("}text")), "") or ""
            elem.clear()
            if text.lower().startswith("#redirect"):
                continue
            for p, paragraph in enumerate(filter_wiki(text).split("\n")):
                for i, sentence in enumerate(split_sentences(paragraph.strip())):
                    if _WIKI_PROSE.match(sentence) and len(sentence.split()) >= 4 and "()" not in sentence:
                        yield Root(f"wiki:{title}:{p:03d}:{i:02d}", sentence)


WORDNET_DIR = Path("/usr/share/wordnet")
_QUOTED = re.compile(r'"([^"]+)"')


def wordnet_examples(drops: Counter) -> Iterator[Root]:
    """Example sentences quoted in WordNet 3.0 glosses (Debian package wordnet-base)."""
    files = [WORDNET_DIR / f"data.{pos}" for pos in ("noun", "verb", "adj", "adv")]
    if not all(f.is_file() for f in files):
        raise SourceError(f"corpus.source=wordnet: {WORDNET_DIR}/data.* not found; apt-get install wordnet-base")
    for path in files:
        for number, line in decode_lines(path.read_bytes(), str(path), drops):
            if line.startswith("  ") or "|" not in line:  # licence header lines start with two spaces
                continue
            offset = line.split(" ", 1)[0]
            for i, example in enumerate(_QUOTED.findall(line.split("|", 1)[1])):
                if example[:1].isupper() and len(example.split()) >= 4:
                    yield Root(f"wordnet:{path.suffix[1:]}:{offset}:{i}", example)


def opus_english(cfg: CorpusConfig, drops: Counter) -> Iterator[Root]:
    """English side of an OPUS corpus via ``datasets`` (hub only; the paper sampled its roots from OPUS)."""
    if problem := hub.unavailable_reason():  # fail fast, in one line, on offline machines
        raise SourceError(f"corpus.opus_dataset={cfg.opus_dataset}: {problem}; use an offline corpus.source")
    import datasets

    pair = f"en-{_opus_partner(cfg)}"
    stream = datasets.load_dataset(cfg.opus_dataset, pair, split="train", streaming=True)
    for i, row in enumerate(stream.take(cfg.n_roots * 4)):
        text = row["translation"]["en"]
        yield Root(f"opus:{pair}:{i:07d}", text)


def _opus_partner(cfg: CorpusConfig) -> str:
    # opus-100 configs are named with ISO 639-1 codes; any pool language's pair carries the English side.
    return languages.get(cfg.pool[0], where="corpus.pool").iso639_1


SOURCES = {"gensim-lee": gensim_lee, "gensim-wiki": gensim_wiki, "wordnet": wordnet_examples}


def source_version(name: str) -> str:
    """Version of the package the sentences ship in (provenance for the manifest)."""
    if name.startswith("gensim"):
        return f"gensim=={importlib.metadata.version('gensim')}"
    if name == "wordnet":
        return "wordnet-base (WordNet 3.0)"
    return name


def load_roots(cfg: CorpusConfig) -> tuple[list[Root], Counter]:
    """All candidate roots of ``cfg.source``, cleaned, de-duplicated and free of evaluation sentences."""
    drops: Counter = Counter()
    if cfg.source == "opus":
        raw: Iterable[Root] = opus_english(cfg, drops)
    elif cfg.source in SOURCES:
        raw = SOURCES[cfg.source](drops)
    else:
        raise SourceError(f"corpus.source={cfg.source}: no offline reader; choose gensim-lee, gensim-wiki or wordnet")
    return clean_roots(raw, cfg.min_chars, cfg.max_chars, evaluation_keys(data_dir()), drops), drops


def clean_roots(
    raw: Iterable[Root], min_chars: int, max_chars: int, exclude: frozenset[str], drops: Counter
) -> list[Root]:
    """Normalise, then drop empty, too short/long, duplicate and evaluation-set sentences (counted in ``drops``)."""
    seen: set[str] = set()
    kept: list[Root] = []
    for root in raw:
        text = clean_text(root.text)
        key = normalise_key(text)
        reason = (
            "empty" if not key
            else "surrogates" if not _encodable(text)
            else "too_short" if len(text) < min_chars
            else "too_long" if len(text) > max_chars
            else "duplicate" if key in seen
            else "evaluation_overlap" if key in exclude
            else None
        )  # fmt: skip
        if reason:
            drops[reason] += 1
            continue
        seen.add(key)
        kept.append(Root(root.id, text))
    return kept


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a bad decode upstream
        return False
    return True
