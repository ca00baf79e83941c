"""Registry of mirror-backed tasks: task name -> task class (imported on first use).

A task under an official mteb name keeps its metadata, subsets, splits and
main score and only changes loading (``load_data`` reads the mirror in
``mwalign.config.data_dir()``, else defers to mteb's hub loading); its rows are
the official rows (checked against mteb's descriptive statistics,
``mwalign.evaluation.official_data``). Changed data gets its own name:
``NTREXBitextMining.mwalign-clean`` (training documents dropped),
``NTREXBitextMining.mwalign-xy`` (every language pair, NTREX's last lines) and
``SIB200BitextMining`` (mwalign's own FLORES-style task, see its module).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names are checked at config load time, before mteb is imported
    from mteb.abstasks.abstask import AbsTask

_REGISTRY = {
    "Tatoeba": ("tatoeba", "Tatoeba"),
    "NTREXBitextMining": ("ntrex", "NTREXBitextMining"),
    "NTREXBitextMining.mwalign-clean": ("ntrex", "NTREXBitextMiningClean"),
    "NTREXBitextMining.mwalign-xy": ("ntrex", "NTREXBitextMiningXY"),
    "SIB200BitextMining": ("sib200_bitext_mining", "SIB200BitextMining"),
    "STS17": ("sts17", "STS17"),
    "STSBenchmarkMultilingualSTS": ("stsb_multilingual", "STSBenchmarkMultilingualSTS"),
    "SIB200Classification": ("sib200_classification", "SIB200Classification"),
    "AmazonCounterfactualClassification": ("amazon_counterfactual", "AmazonCounterfactualClassification"),
    "AfriSentiClassification": ("afrisenti", "AfriSentiClassification"),
    "MultiHateClassification": ("multi_hate", "MultiHateClassification"),
    "SIB200ClusteringS2S": ("sib200_clustering", "SIB200ClusteringS2S"),
}
TASK_NAMES = tuple(_REGISTRY)


def check_task_name(name: str, where: str = "evaluation.tasks") -> None:
    """Unknown names fail with ``where`` and the list of known tasks (cheap: imports no task)."""
    if name not in _REGISTRY:
        raise ValueError(f"{where}: unknown task {name!r}; known tasks: {', '.join(sorted(_REGISTRY))}")


def check_task_names(tasks: list[str], role_tasks: dict[str, list[str]]) -> None:
    """Every name of ``evaluation.tasks`` and ``evaluation.role_tasks``, before any stage runs."""
    for name in tasks:
        check_task_name(name)
    for role, names in role_tasks.items():
        for name in names:
            check_task_name(name, f"evaluation.role_tasks.{role}")


def task_class(name: str) -> "type[AbsTask]":
    """The task class for an official name; unknown names list the known ones."""
    check_task_name(name)
    module, cls = _REGISTRY[name]
    return getattr(import_module(f"{__name__}.{module}"), cls)


def get_task(name: str) -> "AbsTask":
    """A fresh task instance."""
    return task_class(name)()
