"""MultiWayContrastiveLoss: hand-computed values, gradients, anchor sets, k=2 equivalence, drift."""

from __future__ import annotations

import math

import pytest
import torch
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from mwalign.training.losses import MultiWayContrastiveLoss, multiway_contrastive_loss

# 2 rows x 2 languages; row 0 = (eng, spa), row 1 = (eng, spa)
LABELS_2x2 = torch.tensor([[0, 0, 0], [0, 1, 1], [1, 0, 2], [1, 1, 3]])


def _unit(angle_deg: float) -> list[float]:
    rad = math.radians(angle_deg)
    return [math.cos(rad), math.sin(rad)]


def test_loss_matches_hand_computed_decoupled_example():
    # Given four 2-d unit vectors at 0, 30, 90, 120 degrees (rows: {0,30}, {90,120}) and tau = 1
    emb = torch.tensor([_unit(0), _unit(30), _unit(90), _unit(120)], dtype=torch.float64)
    c30, c90, c120, c60 = math.cos(math.radians(30)), 0.0, math.cos(math.radians(120)), math.cos(math.radians(60))
    # anchor 0: pos 30deg, negs 90,120 ; anchor 1: pos 0, negs 60deg,90deg ; by symmetry anchors 2,3 mirror 0,1
    l0 = -c30 + math.log(math.exp(c90) + math.exp(c120))
    l1 = -c30 + math.log(math.exp(c60) + math.exp(c90))
    l2 = -c30 + math.log(math.exp(c90) + math.exp(c60))  # anchor 90: negs at 0 (90deg), 30 (60deg)
    l3 = -c30 + math.log(math.exp(c120) + math.exp(c90))  # anchor 120: negs at 0 (120deg), 30 (90deg)
    expected = (l0 + l1 + l2 + l3) / 4
    # When the decoupled loss is computed
    got = multiway_contrastive_loss(emb, LABELS_2x2, temperature=1.0, denominator="negatives")
    # Then it equals the hand computation
    assert got.item() == pytest.approx(expected, abs=1e-12), "decoupled loss must match the hand-computed value"


def test_loss_with_positive_in_denominator_matches_hand_computed_example():
    # Given the same vectors and tau = 0.5
    emb = torch.tensor([_unit(0), _unit(30), _unit(90), _unit(120)], dtype=torch.float64)
    cos = emb @ emb.T
    s = cos / 0.5
    expected = 0.0
    for i, (pos, negs) in enumerate([(1, [2, 3]), (0, [2, 3]), (3, [0, 1]), (2, [0, 1])]):
        expected += -s[i, pos] + torch.logsumexp(torch.stack([s[i, pos], *[s[i, n] for n in negs]]), 0)
    # When the multi-positive InfoNCE variant is computed
    got = multiway_contrastive_loss(emb, LABELS_2x2, temperature=0.5, denominator="negatives+positive")
    # Then it equals the per-anchor softmax cross-entropy, averaged
    assert got.item() == pytest.approx((expected / 4).item(), abs=1e-12), "SupCon-style loss must match by hand"


@pytest.mark.parametrize("denominator", ["negatives", "negatives+positive"])
@pytest.mark.parametrize("anchors", ["all", "english", "non-english"])
def test_loss_gradients_pass_gradcheck(denominator, anchors):
    # Given 3 rows x 3 languages of random float64 embeddings (h = 0: the hard-positive weights are
    # stop-gradient by design, which finite differences would see)
    torch.manual_seed(0)
    emb = torch.randn(9, 5, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([[r, lang, -1] for r in range(3) for lang in (0, 1, 3)])

    def loss_fn(x):
        return multiway_contrastive_loss(x, labels, temperature=0.3, denominator=denominator,
                                         anchors=anchors, symmetric=True)

    # Then analytic and numerical gradients agree
    assert torch.autograd.gradcheck(loss_fn, (emb,), eps=1e-6, atol=1e-5), "loss gradients must be correct"


def test_english_anchors_score_only_english_pairs():
    # Given rows whose English version is far from the others but non-English versions agree
    torch.manual_seed(1)
    base = torch.randn(4, 16)
    emb = base.repeat_interleave(3, dim=0)  # rows of (eng, spa, fra)
    emb[0::3] = torch.randn(4, 16)  # scramble English
    labels = torch.tensor([[r, lang, -1] for r in range(4) for lang in (0, 1, 3)])
    # When the loss uses English anchors vs non-English anchors
    english = multiway_contrastive_loss(emb, labels, anchors="english")
    non_english = multiway_contrastive_loss(emb, labels, anchors="non-english")
    # Then only the English-anchored loss sees the scrambled English (non-English anchors still see eng positives)
    assert english > non_english, "English-anchor loss must be higher when English is the misaligned language"
    # And non-English anchors without English positives reduce to the spa<->fra pairs alone
    only_x = emb[[i for i in range(12) if i % 3]]
    only_x_labels = labels[[i for i in range(12) if i % 3]]
    restricted = multiway_contrastive_loss(only_x, only_x_labels, anchors="all")
    assert restricted < non_english, "removing the scrambled English positives must lower the loss"


def test_symmetric_adds_reverse_direction_only_for_restricted_anchors():
    # Given random 3-language rows
    torch.manual_seed(2)
    emb = torch.randn(12, 8)
    labels = torch.tensor([[r, lang, -1] for r in range(4) for lang in (0, 1, 3)])
    # Then symmetric is a no-op for all anchors but changes the English-anchor loss
    all_plain = multiway_contrastive_loss(emb, labels, anchors="all", symmetric=False)
    all_sym = multiway_contrastive_loss(emb, labels, anchors="all", symmetric=True)
    assert torch.allclose(all_plain, all_sym), "symmetric must not change the all-anchor loss"
    eng_plain = multiway_contrastive_loss(emb, labels, anchors="english", symmetric=False)
    eng_sym = multiway_contrastive_loss(emb, labels, anchors="english", symmetric=True)
    assert not torch.allclose(eng_plain, eng_sym), "symmetric must add X->eng terms for English anchors"


def test_loss_lower_on_aligned_than_shuffled():
    # Given embeddings where each row's versions are near-identical
    torch.manual_seed(3)
    emb = torch.randn(6, 16).repeat_interleave(4, dim=0) + 0.05 * torch.randn(24, 16)
    labels = torch.tensor([[r, lang, -1] for r in range(6) for lang in (0, 1, 2, 3)])
    shuffled = labels.clone()
    shuffled[:, 0] = labels[torch.randperm(24), 0]
    # Then the loss with the true row structure is lower than with shuffled rows
    assert multiway_contrastive_loss(emb, labels) < multiway_contrastive_loss(emb, shuffled), "aligned < shuffled"


def test_hard_positive_weight_emphasises_low_cosine_positives():
    # Given an anchor with one close and one far positive
    torch.manual_seed(4)
    emb = torch.randn(9, 8, dtype=torch.float64)
    emb[1] = emb[0] + 0.01
    labels = torch.tensor([[r, lang, -1] for r in range(3) for lang in (0, 1, 3)])
    # Then up-weighting the far positive raises the loss (its term is the larger one)
    plain = multiway_contrastive_loss(emb, labels, hard_positive_weight=0.0)
    weighted = multiway_contrastive_loss(emb, labels, hard_positive_weight=3.0)
    assert weighted > plain, "weighting low-cosine positives up must increase the loss"


class _Identity(torch.nn.Module):
    def forward(self, features):
        return {"sentence_embedding": features["x"]}


def test_bilingual_k2_equals_symmetric_in_batch_infonce_on_pairs():
    # Given B English/X pairs
    torch.manual_seed(5)
    eng, xx = torch.randn(6, 8), torch.randn(6, 8)
    mnrl = MultipleNegativesRankingLoss(_Identity(), scale=20.0, directions=("query_to_doc", "query_to_query"))
    expected = (mnrl([{"x": eng}, {"x": xx}], None) + mnrl([{"x": xx}, {"x": eng}], None)) / 2
    # When our loss sees them as k=2 rows (row order interleaved)
    ours = MultiWayContrastiveLoss(_Identity(), temperature=0.05, denominator="negatives+positive")
    labels = torch.tensor([[r, lang, -1] for r in range(6) for lang in (0, 1)])
    emb = torch.stack([eng, xx], dim=1).reshape(12, 8)
    got = ours([{"x": emb}], labels)
    # Then it equals symmetric InfoNCE with in-batch negatives from both columns
    assert torch.allclose(got, expected, atol=1e-5), f"k=2 loss {got} must equal symmetric MNRL {expected}"


def test_drift_regulariser_uses_cached_reference():
    # Given a cached reference equal to the embeddings shifted by 1 in each of 8 dims
    emb = torch.randn(4, 8)
    loss = MultiWayContrastiveLoss(_Identity(), drift_weight=0.5)
    loss.set_reference_embeddings(emb + 1.0)
    without = multiway_contrastive_loss(emb, LABELS_2x2)
    # Then the loss adds lambda * mean squared distance = 0.5 * 8
    got = loss.loss_from_embeddings(emb, LABELS_2x2)
    assert got.item() == pytest.approx(without.item() + 4.0, rel=1e-5), "drift term must be lambda * ||f - f0||^2"


def test_bad_inputs_fail_with_clear_errors():
    # Given a batch with a single row, or drift without a cache, or bad options
    one_row = torch.tensor([[0, 0, -1], [0, 1, -1]])
    with pytest.raises(ValueError, match=">= 2 rows"):
        multiway_contrastive_loss(torch.randn(2, 4), one_row)
    with pytest.raises(ValueError, match="set_reference_embeddings"):
        MultiWayContrastiveLoss(_Identity(), drift_weight=0.1).loss_from_embeddings(torch.randn(4, 4), LABELS_2x2)
    with pytest.raises(ValueError, match="temperature"):
        MultiWayContrastiveLoss(_Identity(), temperature=0.0)
    with pytest.raises(ValueError, match="anchors"):
        MultiWayContrastiveLoss(_Identity(), anchors="french")

    class CrossEncoder(torch.nn.Module):
        pass

    with pytest.raises(ValueError, match="CrossEncoder gives no single dense sentence embedding"):
        MultiWayContrastiveLoss(CrossEncoder())


def test_config_and_citation_describe_the_loss():
    loss = MultiWayContrastiveLoss(_Identity(), temperature=0.1, anchors="english")
    assert loss.get_config_dict()["anchors"] == "english" and loss.scale == pytest.approx(10.0)
    assert "2602.21543" in loss.citation, "citation must name the paper"


def _example_code(docstring: str) -> str:
    """The indented code block after 'Example:' in a docstring, dedented."""
    import textwrap

    block = docstring.split("Example:", 1)[1].split("::", 1)[1] if "Example:\n" in docstring else \
        docstring.split("Example::", 1)[1]
    body = block.splitlines()[1:]
    indent = min(len(x) - len(x.lstrip()) for x in body if x.strip())
    lines = []
    for line in body:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


@pytest.mark.parametrize("documented", [MultiWayContrastiveLoss.__init__, multiway_contrastive_loss])
def test_docstring_examples_run(documented):
    # Given the runnable Example of the docstring, Then it executes without error (its asserts included)
    code = _example_code(documented.__doc__)
    assert "import torch" in code, "the example block must be found"
    exec(compile(code, f"<{documented.__qualname__} example>", "exec"), {})
