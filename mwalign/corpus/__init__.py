"""Stage 01: the multi-way parallel corpus and its English-centric bilingual baseline.

``run_corpus_stage(cfg, run_dir)`` builds ``<run_dir>/corpus`` (see :mod:`mwalign.corpus.build`);
``translation_quality(...)`` scores backends against NTREX-128 human references, and
``run_quality_study(cfg, run_dir)`` runs that for the profile's backends (chapter 01), and
``run_sensitivity_study(cfg, run_dir)`` builds one corpus per translator for the sensitivity study.
"""

from mwalign.corpus.build import run_corpus_stage
from mwalign.corpus.quality import run_quality_study, translation_quality
from mwalign.corpus.sensitivity import run_sensitivity_study, sensitivity_corpora

__all__ = [
    "run_corpus_stage", "run_quality_study", "run_sensitivity_study", "sensitivity_corpora", "translation_quality",
]
