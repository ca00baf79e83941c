"""Language codes used across mwalign.

Canonical codes are ISO 639-3 (``eng``, ``spa``); mteb writes languages as
``xxx-Scrp`` (``spa-Latn``) and FLORES/NLLB as ``xxx_Scrp`` (``spa_Latn``).
This module is the one place that maps between them and the data sets'
own file codes (NTREX, Tatoeba), so no other module hard-codes a code table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One language with the codes each resource uses for it."""

    code: str  # ISO 639-3, canonical in mwalign
    script: str  # ISO 15924
    name: str
    ntrex: str | None = None  # NTREX-128 file code, None if absent
    tatoeba: str | None = None  # LASER Tatoeba code, None if absent

    @property
    def mteb(self) -> str:
        """mteb 2.x language tag, e.g. ``spa-Latn``."""
        return f"{self.code}-{self.script}"

    @property
    def flores(self) -> str:
        """FLORES-200 / NLLB / SIB-200 code, e.g. ``spa_Latn``."""
        return f"{self.code}_{self.script}"


_TABLE = [
    Language("eng", "Latn", "English", ntrex="eng", tatoeba="eng"),
    Language("spa", "Latn", "Spanish", ntrex="spa", tatoeba="spa"),
    Language("por", "Latn", "Portuguese", ntrex="por", tatoeba="por"),
    Language("fra", "Latn", "French", ntrex="fra", tatoeba="fra"),
    Language("ita", "Latn", "Italian", ntrex="ita", tatoeba="ita"),
    Language("cat", "Latn", "Catalan", ntrex="cat", tatoeba="cat"),
    Language("epo", "Latn", "Esperanto", ntrex=None, tatoeba="epo"),
    Language("glg", "Latn", "Galician", ntrex="glg", tatoeba="glg"),
    Language("deu", "Latn", "German", ntrex="deu", tatoeba="deu"),
    Language("nld", "Latn", "Dutch", ntrex="nld", tatoeba="nld"),
    Language("pol", "Latn", "Polish", ntrex="pol", tatoeba="pol"),
    Language("ron", "Latn", "Romanian", ntrex="ron", tatoeba="ron"),
    Language("ces", "Latn", "Czech", ntrex="ces", tatoeba="ces"),
    Language("tur", "Latn", "Turkish", ntrex="tur", tatoeba="tur"),
    Language("fin", "Latn", "Finnish", ntrex="fin", tatoeba="fin"),
    Language("hun", "Latn", "Hungarian", ntrex="hun", tatoeba="hun"),
    Language("swe", "Latn", "Swedish", ntrex="swe", tatoeba="swe"),
    Language("ind", "Latn", "Indonesian", ntrex="ind", tatoeba="ind"),
    Language("vie", "Latn", "Vietnamese", ntrex="vie", tatoeba="vie"),
    Language("swh", "Latn", "Swahili", ntrex="swa", tatoeba="swh"),
    Language("rus", "Cyrl", "Russian", ntrex="rus", tatoeba="rus"),
    Language("ukr", "Cyrl", "Ukrainian", ntrex="ukr", tatoeba="ukr"),
    Language("bul", "Cyrl", "Bulgarian", ntrex="bul", tatoeba="bul"),
    Language("ell", "Grek", "Greek", ntrex="ell", tatoeba="ell"),
    Language("arb", "Arab", "Arabic", ntrex="arb", tatoeba="ara"),
    Language("heb", "Hebr", "Hebrew", ntrex="heb", tatoeba="heb"),
    Language("pes", "Arab", "Persian", ntrex="fas", tatoeba="pes"),
    Language("hin", "Deva", "Hindi", ntrex="hin", tatoeba="hin"),
    Language("ben", "Beng", "Bengali", ntrex="ben", tatoeba="ben"),
    Language("tam", "Taml", "Tamil", ntrex="tam", tatoeba="tam"),
    Language("tha", "Thai", "Thai", ntrex="tha", tatoeba="tha"),
    Language("kor", "Hang", "Korean", ntrex="kor", tatoeba="kor"),
    Language("jpn", "Jpan", "Japanese", ntrex="jpn", tatoeba="jpn"),
    Language("zho", "Hans", "Chinese (Simplified)", ntrex="zho-CN", tatoeba="cmn"),
    Language("amh", "Ethi", "Amharic", ntrex="amh", tatoeba="amh"),
]

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _TABLE}


def get(code: str, *, where: str = "language") -> Language:
    """Look up a canonical ISO 639-3 code; unknown codes raise a one-line error naming ``where``."""
    try:
        return LANGUAGES[code]
    except KeyError:
        known = ", ".join(sorted(LANGUAGES))
        raise ValueError(f"{where}: unknown language code {code!r}; known codes: {known}") from None


def validate_codes(codes: list[str], *, where: str) -> list[str]:
    """Check every code is known and unique; return them unchanged."""
    for code in codes:
        get(code, where=where)
    if len(set(codes)) != len(codes):
        raise ValueError(f"{where}: duplicate language codes in {codes}")
    return codes
