"""Multi-way contrastive loss: every language version of a row is an anchor, the row's other versions its positives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Denominator = Literal["negatives", "negatives+positive"]
AnchorSet = Literal["all", "english", "non-english"]

#: Language id of English in the labels' language column (``mwalign.languages`` order, ``eng`` first).
ENGLISH_ID = 0


def multiway_contrastive_loss(
    embeddings: Tensor,
    labels: Tensor,
    *,
    temperature: float = 0.05,
    denominator: Denominator = "negatives",
    hard_positive_weight: float = 0.0,
    symmetric: bool = False,
    anchors: AnchorSet = "all",
    candidates: Tensor | None = None,
    candidate_labels: Tensor | None = None,
    anchor_offset: int = 0,
) -> Tensor:
    """The contrastive part of :class:`MultiWayContrastiveLoss` on precomputed embeddings.

    ``embeddings`` (N, d) are the anchors, ``labels`` (N, 2+) their ``(row, language)`` ids. By default the
    candidates are the anchors themselves; a distributed caller passes the gathered global batch as
    ``candidates`` / ``candidate_labels`` and the position of its local block in it as ``anchor_offset``.

    Example::

        import torch
        from mwalign.training.losses.multi_way_contrastive_loss import multiway_contrastive_loss

        # 2 rows x 3 languages (eng=0, spa=1, fra=3): row, language
        labels = torch.tensor([[0, 0], [0, 1], [0, 3], [1, 0], [1, 1], [1, 3]])
        aligned = torch.randn(2, 8).repeat_interleave(3, dim=0) + 0.01 * torch.randn(6, 8)
        assert multiway_contrastive_loss(aligned, labels) < multiway_contrastive_loss(torch.randn(6, 8), labels)
    """
    if candidates is None:
        candidates, candidate_labels = embeddings, labels
    anchor_rows, anchor_langs = labels[:, 0], labels[:, 1]  # (Na,), (Na,)
    cand_rows, cand_langs = candidate_labels[:, 0], candidate_labels[:, 1]  # (Nc,), (Nc,)
    if torch.unique(cand_rows).numel() < 2:
        raise ValueError("MultiWayContrastiveLoss: a batch needs >= 2 rows for in-batch negatives; raise batch_size")

    dtype = torch.promote_types(embeddings.dtype, torch.float32)  # bf16 autocast output -> fp32 loss
    cos = F.normalize(embeddings.to(dtype), dim=-1) @ F.normalize(candidates.to(dtype), dim=-1).T  # (Na, Nc)
    logits = cos / temperature  # (Na, Nc)
    same_row = anchor_rows[:, None] == cand_rows[None, :]  # (Na, Nc)
    anchor_pos = torch.arange(len(anchor_rows), device=cos.device) + anchor_offset  # (Na,)
    not_self = torch.arange(len(cand_rows), device=cos.device)[None, :] != anchor_pos[:, None]  # (Na, Nc)
    pairs = same_row & not_self & _pair_selection(anchor_langs, cand_langs, anchors, symmetric)  # (Na, Nc)

    log_z_neg = torch.logsumexp(logits.masked_fill(same_row, float("-inf")), dim=1, keepdim=True)  # (Na, 1)
    log_z = torch.logaddexp(logits, log_z_neg) if denominator == "negatives+positive" else log_z_neg
    pair_loss = torch.where(pairs, log_z - logits, torch.zeros_like(logits))  # (Na, Nc)

    # Stop-gradient weights: low-cosine (hard) positives count more; w = 0 gives plain averaging.
    weights = torch.exp(hard_positive_weight * (1.0 - cos.detach())) * pairs  # (Na, Nc)
    has_pair = pairs.any(dim=1)  # (Na,)
    per_anchor = (pair_loss * weights).sum(dim=1)[has_pair] / weights.sum(dim=1)[has_pair]  # (A,)
    if per_anchor.numel() == 0:
        raise ValueError(f"MultiWayContrastiveLoss: no anchor/positive pair in the batch for anchors={anchors!r}")
    return per_anchor.mean()


def _pair_selection(anchor_langs: Tensor, cand_langs: Tensor, anchors: AnchorSet, symmetric: bool) -> Tensor:
    """(Na, Nc) mask of ordered (anchor, positive) pairs allowed by the anchor set."""
    if anchors == "all":
        return torch.ones(len(anchor_langs), len(cand_langs), dtype=torch.bool, device=anchor_langs.device)
    is_english_anchor, is_english_cand = anchor_langs == ENGLISH_ID, cand_langs == ENGLISH_ID
    if anchors == "english":
        anchor_ok, cand_ok = is_english_anchor, is_english_cand
    else:
        anchor_ok, cand_ok = ~is_english_anchor, ~is_english_cand
    allowed = anchor_ok[:, None].expand(len(anchor_langs), len(cand_langs))
    if symmetric:  # also score each selected pair from the positive's side
        allowed = allowed | cand_ok[None, :]
    return allowed


class MultiWayContrastiveLoss(nn.Module):
    def __init__(
        self,
        model: nn.Module,
        temperature: float = 0.05,
        denominator: Denominator = "negatives",
        hard_positive_weight: float = 0.0,
        symmetric: bool = False,
        anchors: AnchorSet = "all",
        drift_weight: float = 0.0,
        gather_across_devices: bool = False,
    ) -> None:
        r"""Multi-way contrastive loss over rows of translations of one English root.

        A batch holds B rows; row r has k_r language versions of one English sentence. Every sentence is an
        anchor (see ``anchors``), its positives are the other versions of its row, its negatives all
        sentences of the other rows. All sentences are encoded once per step and every anchor/positive pair
        is scored from the same embeddings. An optional drift term pulls the embeddings towards cached
        embeddings of the frozen starting model.

        Args:
            model: SentenceTransformer (any module returning ``sentence_embedding``).
            temperature: tau in the formula; sentence-transformers' ``scale`` = 1 / temperature
                (0.05 = scale 20).
            denominator: ``"negatives"``: decoupled contrastive loss, the positive is not in the partition
                function (the secondary note's Eq. 1); ``"negatives+positive"``: multi-positive InfoNCE, one
                softmax per positive over that positive and the anchor's negatives.
            hard_positive_weight: h; each positive of an anchor is weighted by exp(h (1 - cos)) (stop-gradient,
                normalised per anchor), so low-cosine positives count more. 0 = plain mean.
            symmetric: with a restricted anchor set, also score each selected pair from the positive's side
                (no effect with ``anchors="all"``, where every pair is already scored both ways).
            anchors: ``"all"`` languages (paper), ``"english"`` only, or ``"non-english"`` (ablations).
            drift_weight: lambda of the L2 drift regulariser; needs :meth:`set_reference_embeddings`.
            gather_across_devices: all-gather embeddings across ``torch.distributed`` ranks so each rank's
                anchors see the global batch's negatives (per-rank loss = mean over local anchors).
                Same collective as sentence-transformers' ``MultipleNegativesRankingLoss(gather_across_devices=True)``
                (>= 5.1: ``util.all_gather_with_grad``, i.e. ``torch.distributed.nn.all_gather``, whose backward
                sums every rank's gradient into each rank's embeddings; averaging parameter gradients over ranks
                then gives the single-process gradient, tested to 1e-6). Ours differs in what it gathers besides:
                MNRL finds a query's positive at ``rank * batch_size + i`` in the gathered docs, while a multi-way
                row has a variable number of languages and its positives are all its other sentences, so we also
                gather the (row, language, sentence) labels, shift row ids per rank to keep them globally unique,
                and check first that every rank holds the same number of sentences (all_gather needs equal shapes).

        References:
            - Fazili & Goswami, Enhancing Multilingual Embeddings via Multi-Way Parallel Text Alignment,
              arXiv:2602.21543
            - Yeh et al., Decoupled Contrastive Learning, arXiv:2110.06848
            - Khosla et al., Supervised Contrastive Learning, arXiv:2004.11362

        Requirements:
            1. Rows of >= 2 translations of one root; >= 2 rows per batch, each English root at most once.
            2. Labels give each sentence's row and language id (English = 0, ``mwalign.languages`` order).

        Inputs:
            +-----------------------------------------------+------------------------------------------+
            | Inputs                                        | Labels                                   |
            +===============================================+==========================================+
            | feature dicts holding the batch's N sentences | (N, 3) long: row, language id,           |
            | (concatenated in order)                       | sentence id in the drift cache (or -1)   |
            +-----------------------------------------------+------------------------------------------+

        Recommendations:
            - Use :class:`mwalign.training.data.RootBatchSampler` so no root appears twice in a batch
              (a duplicate root would be a false negative).
            - Keep ``drift_weight`` small (0.01-0.1); tune it per model as the paper does.

        Relations:
            - With k = 2 rows (English + X), ``anchors="all"`` and ``denominator="negatives+positive"`` it
              equals symmetric in-batch-negatives InfoNCE on pairs whose negatives include same-language
              sentences: the mean of :class:`MultipleNegativesRankingLoss` (directions query_to_doc +
              query_to_query) on (eng, X) and on (X, eng). Same cost as that pair loss, but with k-way rows one
              forward of B*k sentences yields B*k*(k-1) pairs where MNRL needs B*k*(k-1)/2 pair rows encoded
              twice.
            - Memory grows with B*k; ``mwalign.training.grad_cache`` gives the GradCache variant
              (same loss and gradients, memory of one mini-batch).

        Formula:
            With unit-normalised embeddings :math:`z`, :math:`s_{ij} = z_i^\top z_j / \tau`, anchors
            :math:`A`, positives :math:`P(i)` (same row, :math:`j \ne i`), negatives :math:`N(i)` (other rows),
            :math:`w_{ip} = \mathrm{sg}[e^{h(1 - \tau s_{ip})}]`:

            .. math::

                \ell_{ip} = -s_{ip} + \log\Big(\delta\, e^{s_{ip}} + \sum_{n \in N(i)} e^{s_{in}}\Big),\qquad
                \mathcal{L} = \frac{1}{|A|}\sum_{i \in A} \frac{\sum_{p \in P(i)} w_{ip}\,\ell_{ip}}
                {\sum_{p \in P(i)} w_{ip}} + \frac{\lambda}{N}\sum_i \lVert f(x_i) - f_0(x_i)\rVert^2

            with :math:`\delta = 0` for ``denominator="negatives"`` and 1 for ``"negatives+positive"``; for
            ``anchors="all"`` and h = 0 this is InfoNCE averaged over the K(K-1) ordered language pairs.

        Example:
            ::

                import torch
                from mwalign.training.losses import MultiWayContrastiveLoss

                # With a SentenceTransformer: loss([model.preprocess(texts)], labels). Here the embeddings
                # are given directly, so any module stands in for the model (runs in well under a second).
                loss = MultiWayContrastiveLoss(torch.nn.Identity(), temperature=0.05, drift_weight=0.1)
                labels = torch.tensor([[row, lang, row * 3 + j] for row in range(2)
                                       for j, lang in enumerate((0, 1, 3))])  # 2 rows x (eng, spa, fra)
                embeddings = torch.randn(6, 8, requires_grad=True)
                loss.set_reference_embeddings(torch.randn(6, 8))  # f0(x), cached once before training
                loss.loss_from_embeddings(embeddings, labels).backward()
                assert embeddings.grad.shape == (6, 8)
        """
        super().__init__()
        if type(model).__name__ in ("CrossEncoder", "SparseEncoder", "MultiVectorEncoder"):
            raise ValueError(f"MultiWayContrastiveLoss: {type(model).__name__} gives no single dense sentence "
                             "embedding; use a SentenceTransformer, or that family's MultipleNegativesRankingLoss")
        if not temperature > 0:
            raise ValueError(f"MultiWayContrastiveLoss: temperature must be > 0, got {temperature}")
        if denominator not in ("negatives", "negatives+positive"):
            raise ValueError(f"MultiWayContrastiveLoss: denominator must be 'negatives' or 'negatives+positive', "
                             f"got {denominator!r}")
        if anchors not in ("all", "english", "non-english"):
            raise ValueError("MultiWayContrastiveLoss: anchors must be 'all', 'english' or 'non-english', "
                             f"got {anchors!r}")
        if hard_positive_weight < 0 or drift_weight < 0:
            raise ValueError("MultiWayContrastiveLoss: hard_positive_weight and drift_weight must be >= 0")
        self.model = model
        self.temperature = temperature
        self.denominator = denominator
        self.hard_positive_weight = hard_positive_weight
        self.symmetric = symmetric
        self.anchors = anchors
        self.drift_weight = drift_weight
        self.gather_across_devices = gather_across_devices
        self.reference_embeddings: Tensor | None = None

    @property
    def scale(self) -> float:
        return 1.0 / self.temperature

    def set_reference_embeddings(self, reference: Tensor) -> None:
        """Cache f0(x) for every training sentence (S, d), indexed by the labels' sentence-id column."""
        self.reference_embeddings = reference.detach().float()

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embeddings = torch.cat([self.model(f)["sentence_embedding"] for f in sentence_features])  # (N, d)
        return self.loss_from_embeddings(embeddings, labels)

    def loss_from_embeddings(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """The loss given this step's (N, d) embeddings; GradCache and DDP call this directly."""
        if len(embeddings) != len(labels):
            raise ValueError(f"MultiWayContrastiveLoss: {len(embeddings)} embeddings but {len(labels)} label rows")
        options = dict(temperature=self.temperature, denominator=self.denominator,
                       hard_positive_weight=self.hard_positive_weight, symmetric=self.symmetric, anchors=self.anchors)
        if self.gather_across_devices and torch.distributed.is_initialized():
            local_labels, global_batch = _gather_global_batch(embeddings, labels)
            loss = multiway_contrastive_loss(embeddings, local_labels, **options, **global_batch)
        else:
            loss = multiway_contrastive_loss(embeddings, labels, **options)
        if self.drift_weight > 0:
            loss = loss + self.drift_weight * self._drift(embeddings, labels)
        return loss

    def _drift(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        if self.reference_embeddings is None:
            raise ValueError("MultiWayContrastiveLoss: drift_weight > 0 needs set_reference_embeddings() "
                             "before training")
        sentence_ids = labels[:, 2]  # (N,)
        if bool((sentence_ids < 0).any()):
            raise ValueError("MultiWayContrastiveLoss: drift_weight > 0 needs sentence ids (labels[:, 2] >= 0)")
        reference = self.reference_embeddings.to(embeddings.device)[sentence_ids]  # (N, d)
        dtype = torch.promote_types(embeddings.dtype, torch.float32)
        return (embeddings.to(dtype) - reference.to(dtype)).pow(2).sum(dim=-1).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "denominator": self.denominator,
            "hard_positive_weight": self.hard_positive_weight,
            "symmetric": self.symmetric,
            "anchors": self.anchors,
            "drift_weight": self.drift_weight,
        }

    @property
    def citation(self) -> str:
        return """
@misc{fazili2026multiway,
      title={Enhancing Multilingual Embeddings via Multi-Way Parallel Text Alignment},
      author={Barah Fazili and Koustava Goswami},
      year={2026},
      eprint={2602.21543},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/2602.21543},
}
"""


def _gather_global_batch(embeddings: Tensor, labels: Tensor) -> tuple[Tensor, dict[str, Any]]:
    """All-gather (with gradient) this step's embeddings and labels; rows are made globally unique per rank."""
    import torch.distributed as dist
    import torch.distributed.nn as dist_nn

    rank, world = dist.get_rank(), dist.get_world_size()
    # every collective's tensors live on the embeddings' device (NCCL takes CUDA tensors only)
    sizes = [torch.zeros(1, dtype=torch.long, device=labels.device) for _ in range(world)]
    dist.all_gather(sizes, torch.tensor([len(labels)], device=labels.device))
    if len({int(size) for size in sizes}) != 1:
        raise ValueError(f"MultiWayContrastiveLoss: ranks hold different sentence counts {[int(s) for s in sizes]}; "
                         "use rows with the same k on every rank")
    gathered_embeddings = torch.cat(dist_nn.all_gather(embeddings.contiguous()))  # (W*N, d)
    label_chunks = [torch.zeros_like(labels) for _ in range(world)]
    dist.all_gather(label_chunks, labels.contiguous())
    row_span = int(max(int(chunk[:, 0].max()) for chunk in label_chunks)) + 1
    for chunk_rank, chunk in enumerate(label_chunks):
        chunk[:, 0] += chunk_rank * row_span
    local_labels = labels.clone()
    local_labels[:, 0] += rank * row_span
    return local_labels, {
        "candidates": gathered_embeddings,
        "candidate_labels": torch.cat(label_chunks),
        "anchor_offset": rank * len(embeddings),
    }
