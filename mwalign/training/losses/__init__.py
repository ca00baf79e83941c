"""Loss functions for alignment training, one per file (sentence-transformers loss interface)."""

from mwalign.training.losses.multi_way_contrastive_loss import MultiWayContrastiveLoss, multiway_contrastive_loss

__all__ = ["MultiWayContrastiveLoss", "multiway_contrastive_loss"]
