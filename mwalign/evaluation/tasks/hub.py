"""Where a task's data comes from: the mirror when present, else mteb's own hub loading (failing fast offline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mwalign.evaluation.tasks.mirror import mirror_available


class HubUnavailableError(RuntimeError):
    """The mirror is absent and the Hugging Face hub cannot be reached."""


def load_from_hub(parent_load: Callable[..., None], task_name: str, **kwargs: Any) -> None:
    """Run mteb's ``load_data``; an offline failure becomes one line naming the task and the fix."""
    try:
        parent_load(**kwargs)
    except Exception as err:  # datasets raises many connection error types
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HubUnavailableError(
            f"{task_name}: no data mirror (MWALIGN_DATA_DIR) and the hub download failed: {first}"
        ) from None


class MirrorOrHub:
    """Mixin put before an official mteb task class: ``load_data`` reads the mirror when present.

    A task defines ``read_mirror()`` (the dataset, as the official loader would
    build it) and sets ``transform_mirror`` when mteb's ``dataset_transform``
    must run on the raw mirror rows (class encoding, seeded sampling).
    """

    transform_mirror: bool = False

    def read_mirror(self) -> Any:
        raise NotImplementedError

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        if not mirror_available():
            return load_from_hub(super().load_data, self.metadata.name, num_proc=num_proc, **kwargs)
        self.dataset = self.read_mirror()
        if self.transform_mirror:
            self.dataset_transform(num_proc=num_proc)
        self.data_loaded = True
