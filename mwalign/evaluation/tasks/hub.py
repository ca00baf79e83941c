"""Deferring to mteb's own hub loading when the data mirror is absent, failing fast offline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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
