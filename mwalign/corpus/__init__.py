"""Stage 01: the multi-way parallel corpus and its English-centric bilingual baseline.

``run_corpus_stage(cfg, run_dir)`` builds ``<run_dir>/corpus`` (see :mod:`mwalign.corpus.build`);
``translation_quality(...)`` scores backends against NTREX-128 human references, and
``run_quality_study(cfg, run_dir)`` runs that for the profile's backends (chapter 01), and
``run_sensitivity_study(cfg, run_dir)`` builds one corpus per translator for the sensitivity study.
"""

from mwalign.lazy import exports

_EXPORTS = {"run_corpus_stage": "build", "run_quality_study": "quality", "translation_quality": "quality",
            "run_sensitivity_study": "sensitivity", "sensitivity_corpora": "sensitivity"}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
