"""English roots: clean, unique, stable ids, and never drawn from an evaluation set."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter

import pytest

from mwalign.config import CorpusConfig
from mwalign.corpus.exclusion import evaluation_keys
from mwalign.corpus.sources import (
    WORDNET_DIR,
    Root,
    SourceError,
    clean_roots,
    decode_lines,
    load_roots,
    normalise_key,
    split_sentences,
)


# One real sentence per evaluation set, read from the mirror itself (not through evaluation_sentences()).
EVALUATION_PICKS = {
    "tatoeba": ("tatoeba/tatoeba.fra-eng.eng", lambda line: line),
    "flores/sib200": ("sib200/annotated/eng_Latn/test.tsv", lambda line: line.split("\t")[2]),
    "sts17": ("sts17/STS2017.eval.v1.1/STS.input.track5.en-en.txt", lambda line: line.split("\t")[1]),
    "stsbenchmark": ("stsbenchmark_en/sts-test.csv", lambda line: line.split("\t")[6]),
    "ntrex": ("ntrex128/NTREX-128/newstest2019-src.eng.txt", lambda line: line),
}


def _evaluation_sentence(data_dir, relative, pick, accept=lambda text: True):
    """The first sentence of an evaluation file that is a plausible root (20-250 chars) and ``accept`` likes."""
    for line in (data_dir / relative).read_text(encoding="utf-8").splitlines()[1:]:
        text = pick(line).strip()
        if 20 <= len(text) <= 250 and accept(text):
            return text
    raise AssertionError(f"{relative}: no usable sentence")


def _fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _variants(text):
    """What a copy of a test sentence looks like in the wild: each difference normalise_key forgives."""
    return {
        "verbatim": text,
        "upper case": text.upper(),
        "lower case, no edge punctuation": " ".join(w.strip(string.punctuation) for w in text.lower().split()),
        "extra punctuation": f'"{text}!!"',
        "curly quotes": f"\u201c{text}\u201d",
        "whitespace": "  " + text.replace(" ", " \t  ").replace(" \t  ", "\n", 1) + " ",
        "fullwidth (NFKC)": _fullwidth(text),
    }


def test_training_roots_never_overlap_evaluation_sets(data_dir, monkeypatch):
    # Given the Lee corpus with evaluation sentences planted in it: one per evaluation set in every variant,
    # plus decomposed accents (NFD), a ligature (NFKC) and a contraction without its apostrophe
    from mwalign.corpus import sources

    planted = {}
    for name, (relative, pick) in EVALUATION_PICKS.items():
        for variant, text in _variants(_evaluation_sentence(data_dir, relative, pick)).items():
            planted[f"plant:{name}:{variant}"] = text
    accented = _evaluation_sentence(data_dir, *EVALUATION_PICKS["ntrex"], accept=lambda t: re.search("[à-ÿ]", t))
    ligature = _evaluation_sentence(data_dir, *EVALUATION_PICKS["tatoeba"], accept=lambda t: "fi" in t)
    planted["plant:ntrex:decomposed accents (NFD)"] = unicodedata.normalize("NFD", accented)
    planted["plant:tatoeba:ligature (NFKC)"] = ligature.replace("fi", "\ufb01")
    contraction = _evaluation_sentence(data_dir, *EVALUATION_PICKS["tatoeba"], accept=lambda t: re.search(r"\w'\w", t))
    planted["plant:tatoeba:in-word marks dropped"] = re.sub(r"(?<=\w)'(?=\w)", "", contraction)  # don't -> dont
    assert planted["plant:ntrex:decomposed accents (NFD)"] != accented, "the NFD plant must differ from its source"
    lee = sources.SOURCES["gensim-lee"]
    _, baseline = load_roots(CorpusConfig(source="gensim-lee"))

    def lee_with_plants(drops):
        yield from (Root(root_id, text) for root_id, text in list(planted.items())[::2])
        yield from lee(drops)
        yield from (Root(root_id, text) for root_id, text in list(planted.items())[1::2])

    monkeypatch.setitem(sources.SOURCES, "gensim-lee", lee_with_plants)
    # When the roots are loaded through the normal path
    roots, drops = load_roots(CorpusConfig(source="gensim-lee"))
    # Then every planted sentence is dropped, whatever its variant, and each drop is counted as an overlap
    leaked = sorted(r.id for r in roots if r.id.startswith("plant:"))
    assert leaked == [], f"evaluation sentences kept as training roots: {leaked}"
    assert drops["evaluation_overlap"] == baseline["evaluation_overlap"] + len(planted), "each exclusion is counted"
    # And the Lee roots themselves are untouched: the same roots as without the plants, none from an evaluation set
    assert len(roots) > 2000, "the Lee corpus yields a few thousand roots"
    keys = evaluation_keys()
    assert not [r.text for r in roots if normalise_key(r.text) in keys], "a Lee root matches an evaluation sentence"


@pytest.mark.parametrize(
    "relative, pick",
    [
        ("tatoeba/tatoeba.fra-eng.eng", lambda line: line),
        ("sib200/annotated/eng_Latn/test.tsv", lambda line: line.split("\t")[2]),
        ("sts17/STS2017.eval.v1.1/STS.input.track5.en-en.txt", lambda line: line.split("\t")[0]),
        ("stsbenchmark_en/sts-test.csv", lambda line: line.split("\t")[5]),
        ("ntrex128/NTREX-128/newstest2019-src.eng.txt", lambda line: line),
    ],
)
def test_a_planted_evaluation_sentence_is_excluded_and_counted(data_dir, relative, pick):
    # Given a sentence from an evaluation set, upper-cased and with extra punctuation
    lines = (data_dir / relative).read_text(encoding="utf-8").splitlines()
    planted = pick(lines[1]).strip().upper() + "!!"
    drops: Counter = Counter()
    # When it goes through root cleaning next to an ordinary sentence
    kept = clean_roots([Root("x:1", planted), Root("x:2", "A perfectly ordinary sentence here.")], 5, 10_000,
                       evaluation_keys(), drops)  # fmt: skip
    # Then only the ordinary sentence survives and the exclusion is counted
    assert [r.id for r in kept] == ["x:2"] and drops["evaluation_overlap"] == 1, f"{relative} leaked"


def test_cleaning_drops_and_counts_bad_sentences():
    raw = [Root("a", "  "), Root("b", "Short."), Root("c", "A fine sentence\nover two lines."),
           Root("d", "a fine sentence over two lines"), Root("e", "Bad \ud800 surrogate sentence.")]  # fmt: skip
    drops: Counter = Counter()
    kept = clean_roots(raw, 10, 300, frozenset(), drops)
    assert [(r.id, r.text) for r in kept] == [("c", "A fine sentence over two lines.")], "one clean line survives"
    assert drops == Counter(empty=1, too_short=1, duplicate=1, surrogates=1)


def test_non_utf8_line_is_dropped_and_counted_not_fatal():
    drops: Counter = Counter()
    lines = list(decode_lines("good line\nbad \xff\xfe line\nanother good".encode("latin-1"), "f", drops))
    assert [n for n, _ in lines] == [0, 2] and drops["not_utf8"] == 1


def test_sentence_splitter_keeps_abbreviations_and_initials_together():
    text = 'Mr. Smith met Dr. J. Brown in the U.S. capital. They talked. "Fine," he said. It rained!'
    assert split_sentences(text) == [
        "Mr. Smith met Dr. J. Brown in the U.S. capital.",
        "They talked.",
        '"Fine," he said.',
        "It rained!",
    ]


def test_root_ids_are_unique_and_stable():
    first, _ = load_roots(CorpusConfig(source="gensim-lee"))
    second, _ = load_roots(CorpusConfig(source="gensim-lee"))
    assert len({r.id for r in first}) == len(first), "ids are unique"
    assert first == second, "the same source gives the same ids and texts"


def test_missing_wordnet_names_the_apt_package(monkeypatch, tmp_path):
    from mwalign.corpus import sources

    monkeypatch.setattr(sources, "WORDNET_DIR", tmp_path)
    with pytest.raises(SourceError, match="apt-get install wordnet-base"):
        load_roots(CorpusConfig(source="wordnet"))


@pytest.mark.skipif(not WORDNET_DIR.joinpath("data.noun").is_file(), reason="needs wordnet-base (make system)")
def test_wordnet_examples_are_clean_unique_sentences(data_dir):
    # Given the example sentences quoted in WordNet's glosses
    roots, drops = load_roots(CorpusConfig(source="wordnet"))
    # Then there are thousands, with unique ids, none from an evaluation set and none in quotes
    assert len(roots) > 5000, f"only {len(roots)} WordNet examples"
    assert len({r.id for r in roots}) == len(roots)
    keys = evaluation_keys()
    assert not [r.text for r in roots if normalise_key(r.text) in keys]
    assert not [r.text for r in roots if r.text.startswith('"') or r.text.endswith('"')], "gloss quotes must go"


def test_opus_source_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SourceError, match="corpus.opus_dataset=.*needs the Hugging Face hub"):
        load_roots(CorpusConfig(source="opus"))
