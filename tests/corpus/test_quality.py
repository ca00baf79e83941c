"""The translation-quality table against NTREX-128 human references."""

from __future__ import annotations

import shutil

import pytest

from mwalign.corpus import translation_quality
from mwalign.corpus.backends.base import TranslationBackend


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apt-get install apertium")
def test_reference_scores_perfectly_and_apertium_in_between(data_dir, tmp_path, monkeypatch):
    # Given 30 NTREX sentences, the reference backend and Apertium
    table = translation_quality(["reference", "apertium"], ["spa", "epo"], 30, tmp_path / "q.sqlite")
    scores = table.set_index(["backend", "language"])
    # Then human references score 100 chrF against themselves, a real MT system well below and above chance
    assert scores.loc[("reference", "spa"), "chrF"] == pytest.approx(100.0)
    assert 25 < scores.loc[("apertium", "spa"), "chrF"] < 90, "Apertium is a real but imperfect translator"
    # And Esperanto, which NTREX lacks, is skipped rather than scored against nothing
    assert "epo" not in set(table["language"])
    # When the table is computed again with every backend call recorded
    calls = []
    translate = TranslationBackend.translate

    def recording_translate(self, texts, src, tgt):
        calls.append((self.name, tgt, len(texts)))
        return translate(self, texts, src, tgt)

    monkeypatch.setattr(TranslationBackend, "translate", recording_translate)
    again = translation_quality(["reference", "apertium"], ["spa", "epo"], 30, tmp_path / "q.sqlite")
    # Then no sentence reaches a backend: the cache answers all of them, and the table is identical
    assert calls == [], f"the second run translated again: {calls}"
    assert again.drop(columns="seconds").equals(table.drop(columns="seconds"))
