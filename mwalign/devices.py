"""One place for devices, autocast dtypes and RNG states, so nothing else assumes CPU or CUDA.

The model's device decides where features, labels and caches go, and autocast takes that
device's type (sentence-transformers' ``batch_to_device`` and ``SentenceTransformer.device``
follow the same rule). :func:`autocast_dtype` picks the dtype that will actually run on a
device, and the pipeline records that one:

============  ==========================================  =======================
device        requested ``bf16``                          requested ``fp32``
============  ==========================================  =======================
CUDA          bf16 where supported, else fp16 (+ scaler)  fp32
CPU           bf16 with native bf16 matmuls, else fp32    fp32
============  ==========================================  =======================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


def resolve_device(setting: str | None = "auto", *, where: str = "device") -> torch.device:
    """``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``; a bad value names ``where``."""
    if setting in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(setting)
    except (RuntimeError, TypeError):
        raise ValueError(f"{where}={setting!r}: expected auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"{where}={setting!r}: expected auto, cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{where}={setting!r}: CUDA is not available on this machine; use auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"{where}={setting!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def cpu_has_bf16() -> bool:
    """True if this CPU has native bf16 matmuls (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    cpu = torch.cpu
    return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def cpu_capability() -> str:
    """The CPU kernels this process runs: PyTorch's dispatch level (``AVX512``, ``AVX2``, ...), with ``+AMX`` where
    oneDNN can use AMX tiles. bf16 results differ in their last bits between capabilities; provenance records it."""
    level = torch.backends.cpu.get_cpu_capability()
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return f"{level}+AMX" if amx else level


def autocast_dtype(device: torch.device | str, requested: str, *, where: str = "dtype") -> str:
    """The autocast dtype that runs on ``device`` for ``requested`` (``bf16``, ``fp16`` or ``fp32``)."""
    if requested not in DTYPES:
        raise ValueError(f"{where}={requested!r}: expected one of {', '.join(DTYPES)}")
    if requested == "fp32":
        return "fp32"
    if torch.device(device).type == "cuda":
        return "bf16" if requested == "bf16" and torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_bf16() else "fp32"  # fp16 autocast on CPU is slow everywhere


@contextlib.contextmanager
def autocast(device: torch.device | str, dtype: str) -> Iterator[None]:
    """Autocast for ``device``'s type in ``dtype`` (a no-op for fp32)."""
    torch_dtype = DTYPES[dtype]
    if torch_dtype is None:
        yield
        return
    with torch.autocast(torch.device(device).type, dtype=torch_dtype):
        yield


def grad_scaler(device: torch.device | str, dtype: str) -> torch.amp.GradScaler | None:
    """A loss scaler on ``device`` for fp16 autocast (fp16 gradients underflow without one); None otherwise.

    bf16 keeps fp32's exponent range and needs none. The scaler skips an optimiser step whose gradients
    overflowed and lowers its scale, as ``transformers.Trainer`` does with ``fp16=True``.
    """
    if dtype != "fp16":
        return None
    return torch.amp.GradScaler(torch.device(device).type)


def module_device(module: torch.nn.Module) -> torch.device:
    """Where a module's parameters live (CPU for a module without parameters)."""
    parameter = next(module.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Move every tensor of a feature dict to ``device`` (other values unchanged)."""
    return {key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in batch.items()}


def rng_state(device: torch.device | str) -> dict[str, torch.Tensor]:
    """The CPU RNG state and, for a CUDA device, that device's RNG state (dropout masks come from there)."""
    device = torch.device(device)
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device | str) -> None:
    """Restore what :func:`rng_state` saved for ``device``."""
    torch.set_rng_state(state["cpu"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], torch.device(device))
