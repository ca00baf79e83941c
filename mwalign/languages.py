"""Language codes used across mwalign.

Canonical codes are ISO 639-3 (``eng``, ``spa``); mteb writes languages as
``xxx-Scrp`` (``spa-Latn``) and FLORES/NLLB as ``xxx_Scrp`` (``spa_Latn``).
This module is the one place that maps between them and the data sets'
own file codes (NTREX, Tatoeba) and ISO 639-1, so no other module hard-codes a code table.
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
    iso639_1: str | None = None  # two-letter code (M2M100 ``__es__``, Marian ``>>es<<``, OPUS config names)

    @property
    def mteb(self) -> str:
        """mteb 2.x language tag, e.g. ``spa-Latn``."""
        return f"{self.code}-{self.script}"

    @property
    def flores(self) -> str:
        """FLORES-200 / NLLB / SIB-200 code, e.g. ``spa_Latn``."""
        return f"{self.code}_{self.script}"


_TABLE = [
    Language("eng", "Latn", "English", ntrex="eng", tatoeba="eng", iso639_1="en"),
    Language("spa", "Latn", "Spanish", ntrex="spa", tatoeba="spa", iso639_1="es"),
    Language("por", "Latn", "Portuguese", ntrex="por", tatoeba="por", iso639_1="pt"),
    Language("fra", "Latn", "French", ntrex="fra", tatoeba="fra", iso639_1="fr"),
    Language("ita", "Latn", "Italian", ntrex="ita", tatoeba="ita", iso639_1="it"),
    Language("cat", "Latn", "Catalan", ntrex="cat", tatoeba="cat", iso639_1="ca"),
    Language("epo", "Latn", "Esperanto", ntrex=None, tatoeba="epo", iso639_1="eo"),
    Language("glg", "Latn", "Galician", ntrex="glg", tatoeba="glg", iso639_1="gl"),
    Language("deu", "Latn", "German", ntrex="deu", tatoeba="deu", iso639_1="de"),
    Language("nld", "Latn", "Dutch", ntrex="nld", tatoeba="nld", iso639_1="nl"),
    Language("pol", "Latn", "Polish", ntrex="pol", tatoeba="pol", iso639_1="pl"),
    Language("ron", "Latn", "Romanian", ntrex="ron", tatoeba="ron", iso639_1="ro"),
    Language("ces", "Latn", "Czech", ntrex="ces", tatoeba="ces", iso639_1="cs"),
    Language("tur", "Latn", "Turkish", ntrex="tur", tatoeba="tur", iso639_1="tr"),
    Language("fin", "Latn", "Finnish", ntrex="fin", tatoeba="fin", iso639_1="fi"),
    Language("hun", "Latn", "Hungarian", ntrex="hun", tatoeba="hun", iso639_1="hu"),
    Language("swe", "Latn", "Swedish", ntrex="swe", tatoeba="swe", iso639_1="sv"),
    Language("ind", "Latn", "Indonesian", ntrex="ind", tatoeba="ind", iso639_1="id"),
    Language("vie", "Latn", "Vietnamese", ntrex="vie", tatoeba="vie", iso639_1="vi"),
    Language("swh", "Latn", "Swahili", ntrex="swa", tatoeba="swh", iso639_1="sw"),
    Language("rus", "Cyrl", "Russian", ntrex="rus", tatoeba="rus", iso639_1="ru"),
    Language("ukr", "Cyrl", "Ukrainian", ntrex="ukr", tatoeba="ukr", iso639_1="uk"),
    Language("bul", "Cyrl", "Bulgarian", ntrex="bul", tatoeba="bul", iso639_1="bg"),
    Language("mkd", "Cyrl", "Macedonian", ntrex="mkd", tatoeba="mkd", iso639_1="mk"),
    Language("hrv", "Latn", "Croatian", ntrex="hrv", tatoeba="hrv", iso639_1="hr"),
    Language("bos", "Latn", "Bosnian", ntrex="bos", tatoeba="bos", iso639_1="bs"),
    # Serbian: FLORES/SIB-200, NTREX (srp-Cyrl; the mirror leaves out srp-Latn) and mteb's Tatoeba tag say Cyrillic,
    # but the mirrored Tatoeba srp file and Apertium's eng-hbs_SR are in Latin script.
    Language("srp", "Cyrl", "Serbian", ntrex="srp-Cyrl", tatoeba="srp", iso639_1="sr"),
    Language("ell", "Grek", "Greek", ntrex="ell", tatoeba="ell", iso639_1="el"),
    Language("arb", "Arab", "Arabic", ntrex="arb", tatoeba="ara", iso639_1="ar"),
    Language("heb", "Hebr", "Hebrew", ntrex="heb", tatoeba="heb", iso639_1="he"),
    Language("pes", "Arab", "Persian", ntrex="fas", tatoeba="pes", iso639_1="fa"),
    Language("hin", "Deva", "Hindi", ntrex="hin", tatoeba="hin", iso639_1="hi"),
    Language("ben", "Beng", "Bengali", ntrex="ben", tatoeba="ben", iso639_1="bn"),
    Language("tam", "Taml", "Tamil", ntrex="tam", tatoeba="tam", iso639_1="ta"),
    Language("tha", "Thai", "Thai", ntrex="tha", tatoeba="tha", iso639_1="th"),
    Language("kor", "Hang", "Korean", ntrex="kor", tatoeba="kor", iso639_1="ko"),
    Language("jpn", "Jpan", "Japanese", ntrex="jpn", tatoeba="jpn", iso639_1="ja"),
    Language("zho", "Hans", "Chinese (Simplified)", ntrex="zho-CN", tatoeba="cmn", iso639_1="zh"),
    Language("amh", "Ethi", "Amharic", ntrex="amh", tatoeba="amh", iso639_1="am"),
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
