"""mwalign.languages: one code table; the Slavic pool languages map to every data set's codes."""

from __future__ import annotations

import pytest

from mwalign import languages
from mwalign.evaluation.languages import canonical
from mwalign.ntrex import ntrex_file


@pytest.mark.parametrize(("code", "mteb", "flores", "ntrex", "tatoeba"), [
    ("hrv", "hrv-Latn", "hrv_Latn", "hrv", "hrv"),
    ("bos", "bos-Latn", "bos_Latn", "bos", "bos"),
    ("srp", "srp-Cyrl", "srp_Cyrl", "srp-Cyrl", "srp"),
    ("mkd", "mkd-Cyrl", "mkd_Cyrl", "mkd", "mkd"),
    ("bul", "bul-Cyrl", "bul_Cyrl", "bul", "bul"),
])
def test_slavic_codes_match_the_evaluation_data(code, mteb, flores, ntrex, tatoeba):
    # Given a canonical code, Then each resource's own code is the one its files and mteb subsets use
    lang = languages.get(code)
    assert (lang.mteb, lang.flores, lang.ntrex, lang.tatoeba) == (mteb, flores, ntrex, tatoeba)
    # And mteb's tag maps back to the canonical code (Tatoeba, SIB-200 and NTREX subsets alike)
    assert canonical(mteb) == code


@pytest.mark.parametrize("code", ["hrv", "bos", "srp", "mkd", "bul"])
def test_the_mirror_holds_an_ntrex_reference_for_each(code, data_dir):
    assert ntrex_file(languages.get(code).ntrex, data_dir).is_file(), f"chapter 01 scores {code} against NTREX"
