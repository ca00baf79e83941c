"""Stage 01: the multi-way parallel corpus and its English-centric bilingual baseline.

``run_corpus_stage(cfg, run_dir)`` builds ``<run_dir>/corpus`` (see :mod:`mwalign.corpus.build`);
``translation_quality(...)`` scores backends against NTREX-128 human references.
"""

from mwalign.corpus.build import run_corpus_stage
from mwalign.corpus.quality import translation_quality

__all__ = ["run_corpus_stage", "translation_quality"]
