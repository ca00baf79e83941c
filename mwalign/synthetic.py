"""Randomly initialised models built locally (no hub), for tests, benches and the GPU check.

:func:`build_tiny_nllb` makes an NLLB-shaped seq2seq folder (FLORES language tokens, M2M100 architecture)
whose greedy outputs differ from input to input, so a batching or ordering mistake changes the results.
"""

from __future__ import annotations

from pathlib import Path

WORDS = "the a cat dog sat ran on under mat tree el la gato perro sobre bajo".split()
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "eng_Latn", "spa_Latn", "fra_Latn"]
SENTENCES = ["the cat sat on the mat under a tree", "a dog", "the dog ran", "cat", "el gato sobre la mat", "tree",
             "the a cat dog", "under the tree a dog sat"]


def build_tiny_nllb(path: Path, *, d_model: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """FLORES language tokens in a word-level vocab; an M2M100 with wide random weights (init_std 1), so
    translations depend on the input (the default narrow init maps every input to the same string)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(seed)
    config = M2M100Config(
        vocab_size=len(vocab), d_model=d_model, encoder_layers=layers, decoder_layers=layers,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model, max_position_embeddings=256,
        init_std=1.0, scale_embedding=True, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
    )  # fmt: skip
    M2M100ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
