"""The Apertium backend: whole batches per process, one-to-one lines, unknown-word marks, crash isolation."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from mwalign.corpus.backends.apertium import ApertiumBackend, flatten, strip_marks
from mwalign.corpus.backends.base import BackendError

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apt-get install apertium")


def test_batch_with_newlines_and_markup_keeps_one_translation_per_sentence():
    # Given sentences with embedded newlines, a form feed, markup and Apertium's own escape characters
    texts = ["The dog\nsleeps.", "A <b>red</b> car [x] ^y$ {z} \\ arrived.", "Line one\r\nline two\fthree.", "Good."]
    # When they are translated in one batch
    out = ApertiumBackend().translate(texts, "eng", "spa")
    # Then each sentence gets exactly its own single-line translation
    assert len(out) == 4 and all(t.text and "\n" not in t.text for t in out), "one line per sentence"
    assert "perro" in out[0].text and "coche" in out[1].text and out[3].text.startswith("Bueno"), "no shifted lines"


def test_whole_batch_goes_through_one_process_per_mode(monkeypatch):
    # Given a counter on subprocess.run
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd) or real_run(cmd, **kw))
    # When 50 sentences go to Portuguese (a two-step route through Spanish)
    ApertiumBackend().translate([f"The house number {i} is red." for i in range(50)], "eng", "por")
    # Then exactly two apertium processes ran: eng-spa then es-pt
    assert [c[1] for c in calls if c[0] == "apertium"] == ["eng-spa", "es-pt"], "never one process per sentence"


def test_unknown_words_are_counted_and_their_marks_stripped():
    # Given a sentence with two invented words
    out = ApertiumBackend().translate(["I like zorbulating the flimflam."], "eng", "spa")[0]
    # Then both are counted and no mark remains in the text
    assert out.unknown == 2 and "*" not in out.text and "zorbulating" in out.text


def test_pivot_counts_an_unknown_word_once():
    # Given an unknown word that stays unknown through eng-spa and es-pt
    out = ApertiumBackend().translate(["I like zorbulating."], "eng", "por")[0]
    assert out.unknown == 1 and "*" not in out.text, "the pivot must not double-count or leave marks"


def test_marks_already_in_the_source_are_kept():
    clean, marked = strip_marks("Es *zorb y *star", source="It is zorb and *star")
    assert (clean, marked) == ("Es zorb y *star", ["zorb"])


def test_flatten_turns_line_breaks_into_spaces():
    assert flatten("a\nb\r\nc\u2028d\x00e") == "a b c d e"


def test_a_sentence_that_crashes_apertium_is_dropped_alone(tmp_path):
    # Given an apertium wrapper that crashes whenever its input contains POISON
    wrapper = tmp_path / "apertium"
    wrapper.write_text('#!/bin/sh\ninput=$(cat)\ncase "$input" in *POISON*) exit 3;; esac\n'
                       'printf "%s\\n" "$input" | apertium "$@"\n')  # fmt: skip
    wrapper.chmod(0o755)
    texts = ["The cat sleeps.", "POISON pill here.", "The dog runs.", "A bird sings."]
    # When the batch is translated
    out = ApertiumBackend(binary=str(wrapper)).translate(texts, "eng", "spa")
    # Then only the poisoned sentence is lost (a counted drop) and its neighbours keep their translations
    assert [t.text is None for t in out] == [False, True, False, False]
    assert "perro" in out[2].text and "gato" in out[0].text, "bisection keeps the line mapping"


def test_backend_failing_on_everything_raises(tmp_path):
    # Given an apertium that always fails
    wrapper = tmp_path / "apertium"
    wrapper.write_text("#!/bin/sh\necho broken >&2\nexit 1\n")
    wrapper.chmod(0o755)
    # Then the batch raises after a few isolated failures instead of silently dropping everything
    with pytest.raises(BackendError, match="more than 3 sentences failed"):
        ApertiumBackend(binary=str(wrapper)).translate([f"Sentence {i}." for i in range(20)], "eng", "cat")


def test_missing_pair_is_reported_with_the_pairs_on_offer():
    with pytest.raises(BackendError, match="no eng->deu pair; it offers: .*eng-spa"):
        ApertiumBackend().check_pair("eng", "deu")


_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@pytest.mark.parametrize("lang", ["mkd", "bul"])
def test_pivot_through_serbo_croatian_gives_cyrillic(lang):
    # Given two plain English sentences (there is no eng-mkd mode: mkd pivots eng->hbs->mkd, bul one step further)
    texts = ["I live in a big house.", "The government announced new economic measures on Monday."]
    # When translated to Macedonian / Bulgarian
    out = ApertiumBackend().translate(texts, "eng", lang)
    # Then both come back, in Cyrillic script, with no mark left
    assert all(t.text and _CYRILLIC.search(t.text) for t in out), f"{lang} must be written in Cyrillic: {out}"
    assert not any(m in t.text for t in out for m in "#@"), out


def test_serbian_comes_out_in_latin_script_and_hbs_routes_share_no_mark():
    # Given English, When translated to Croatian and Serbian (one hbs analysis, two standards)
    hrv, srp = (ApertiumBackend().translate(["I live in a big house."], "eng", t)[0] for t in ("hrv", "srp"))
    # Then both are Latin script (eng-hbs_SR has no Cyrillic output) and a multiword's closing '#' is gone
    assert hrv.text and srp.text and not _CYRILLIC.search(srp.text), (hrv, srp)
    multiword = ApertiumBackend().translate(["The old man went to the market."], "eng", "hrv")[0]
    assert "#" not in multiword.text and multiword.unknown > 0, multiword


def test_a_trailing_hash_in_the_source_is_kept():
    clean, marked = strip_marks("Programiram u C#", source="I program in C#")
    assert (clean, marked) == ("Programiram u C#", [])


def test_macedonian_keeps_adjective_noun_sentences():
    # Given sentences with adjective + noun chunks, which Debian's hbs-mkd pipeline empties without our CG-tag fix
    texts = ["The old man lives in a big house.", "She bought a new red car."]
    # When translated to Macedonian, Then none is lost and the adjective is translated ("стар", "голем", "нов")
    out = ApertiumBackend().translate(texts, "eng", "mkd")
    assert all(t.text for t in out), out
    assert _CYRILLIC.search(out[0].text) and len(out[0].text.split()) >= 5, out
