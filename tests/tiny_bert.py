"""A tiny real encoder for tests: a 2-layer, 32-dim random BERT with mean pooling, as a sentence-transformers model."""

from __future__ import annotations

from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
from transformers import BertConfig, BertModel, PreTrainedTokenizerBase


def tiny_bert(folder: Path, tokenizer: PreTrainedTokenizerBase, seed: int = 0) -> SentenceTransformer:
    """Random BERT weights (seeded) for ``tokenizer``'s vocabulary; the HF files live in ``folder/hf``."""
    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=64)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")
