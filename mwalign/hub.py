"""Is the Hugging Face hub usable? The one probe for corpus sources, translation models and embedding models.

The offline flags are read as ``huggingface_hub`` reads them (``1``/``true``/``yes``/``on``, any case):
``HF_HUB_OFFLINE``, and the older ``TRANSFORMERS_OFFLINE`` and ``HF_DATASETS_OFFLINE``. Without a
flag, a TCP connect to ``HF_ENDPOINT`` (default ``https://huggingface.co``) decides, with a hard
2-second deadline that includes DNS, so an offline machine fails in one line instead of retrying for minutes.
"""

from __future__ import annotations

import os
import socket
import threading
from functools import lru_cache
from urllib.parse import urlparse

HUB_PROBE_SECONDS = 2.0
OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
_TRUE = {"1", "true", "yes", "on"}


def offline_flag() -> str | None:
    """The first offline flag that is set, else None."""
    return next((flag for flag in OFFLINE_FLAGS if os.environ.get(flag, "").strip().lower() in _TRUE), None)


@lru_cache(maxsize=4)
def _endpoint_reachable(host: str, port: int) -> bool:
    """A TCP connect to the hub with a hard deadline (DNS included: it runs in a thread)."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=HUB_PROBE_SECONDS):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(HUB_PROBE_SECONDS)
    return bool(result and result[0])


def unavailable_reason() -> str | None:
    """Why the hub cannot be used ("HF_HUB_OFFLINE is set", "... is unreachable"), or None when it answers."""
    flag = offline_flag()
    if flag:
        return f"needs the Hugging Face hub but {flag} is set"
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    if not _endpoint_reachable(endpoint.hostname or "huggingface.co", port):
        return f"needs the Hugging Face hub but {endpoint.hostname} is unreachable"
    return None


def hub_reachable() -> bool:
    """False when an offline flag is set or the hub endpoint does not answer within 2 s."""
    return unavailable_reason() is None
