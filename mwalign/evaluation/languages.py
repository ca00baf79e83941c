"""mteb language tags <-> mwalign ISO 639-3 codes, subset selection and seen/unseen groups.

mteb subsets carry tags such as ``ara-Arab`` or ``cmn-Hans`` (Tatoeba) where
mwalign says ``arb`` / ``zho``; the aliases come from the resource codes in
:mod:`mwalign.languages`, so no second code table lives here.
"""

from __future__ import annotations

from mteb.abstasks.abstask import AbsTask

from mwalign import languages


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for lang in languages.LANGUAGES.values():
        for alias in (lang.tatoeba, (lang.ntrex or "")[:3]):
            if alias:
                table.setdefault(alias, lang.code)
    for lang in languages.LANGUAGES.values():
        table[lang.code] = lang.code  # canonical codes win over aliases
    return table


_ALIASES = _alias_table()


def canonical(mteb_tag: str) -> str:
    """``ara-Arab`` -> ``arb``; languages outside mwalign's table keep their mteb code (``afr``)."""
    code = mteb_tag.split("-")[0]
    return _ALIASES.get(code, code)


def subset_languages(task: AbsTask, subset: str) -> list[str]:
    return [canonical(tag) for tag in task.metadata.hf_subsets_to_langscripts[subset]]


def select_subsets(task: AbsTask, langs: list[str], *, strict: bool, where: str = "evaluation.langs",
                   allow_empty: bool = False) -> list[str]:
    """Subsets whose languages all lie in ``langs`` plus English (the pivot) and touch ``langs``.

    ``strict``: every requested language must occur in the task (an explicit
    ``evaluation.langs``); otherwise the task keeps whatever it covers. ``allow_empty``: a task without any
    such subset gives ``[]`` (the caller skips it) instead of an error. ``where`` names the setting in messages.
    """
    wanted = set(langs)
    keep = []
    for subset in task.hf_subsets:  # the task may offer fewer subsets than its metadata (mirror)
        codes = set(subset_languages(task, subset))
        if codes <= wanted | {"eng"} and codes & wanted:
            keep.append(subset)
    covered = {code for subset in keep for code in subset_languages(task, subset)}
    absent = [code for code in langs if code not in covered]
    name = task.metadata.name
    if strict and absent:
        raise ValueError(f"{where}: {', '.join(absent)} not in task {name}; drop them or leave {where} unset")
    if not keep and not allow_empty:
        raise ValueError(f"{where}: task {name} has no subset in languages {sorted(wanted)}")
    return keep


def covered_languages(task: AbsTask) -> set[str]:
    """The languages of a task's selected subsets."""
    return {code for subset in task.hf_subsets for code in subset_languages(task, subset)}


def group_of(codes: list[str], seen: set[str]) -> str:
    """A subset is "seen" if all its languages were in the training corpus, else "unseen"."""
    return "seen" if set(codes) <= seen else "unseen"
