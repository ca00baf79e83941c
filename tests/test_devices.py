"""Devices, autocast dtypes and RNG states: one place, device-generic, CPU here and CUDA under the gpu marker."""

from __future__ import annotations

import pytest
import torch

from mwalign import devices

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_auto_picks_cuda_when_available_else_cpu():
    assert devices.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert devices.resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("setting", ["tpu", "gpu0", "cuda:99"])
def test_a_bad_device_names_the_setting(setting):
    if setting == "cuda:99" and not torch.cuda.is_available():
        match = "CUDA is not available"
    else:
        match = "expected auto, cpu, cuda or cuda:N" if setting != "cuda:99" else "CUDA device"
    with pytest.raises(ValueError, match=rf"training.device='{setting}': .*{match}"):
        devices.resolve_device(setting, where="training.device")


def test_cpu_dtype_follows_the_bf16_units(monkeypatch):
    # Given a CPU without native bf16, Then bf16 is requested in vain and fp32 runs (and is what gets recorded)
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: False)
    assert devices.autocast_dtype("cpu", "bf16") == "fp32"
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: True)
    assert devices.autocast_dtype("cpu", "bf16") == "bf16" and devices.autocast_dtype("cpu", "fp32") == "fp32"
    with pytest.raises(ValueError, match="training.dtype='int4'"):
        devices.autocast_dtype("cpu", "int4", where="training.dtype")


def test_autocast_runs_on_the_given_device_type():
    # Given a linear layer on the CPU, When run under autocast for its device in bf16
    layer = torch.nn.Linear(4, 4)
    with devices.autocast(devices.module_device(layer), "bf16"):
        out = layer(torch.ones(1, 4))
        enabled = torch.is_autocast_enabled("cpu")
    # Then autocast was on for the CPU and the matmul ran in bf16; fp32 is a no-op
    assert enabled and out.dtype == torch.bfloat16
    with devices.autocast("cpu", "fp32"):
        assert layer(torch.ones(1, 4)).dtype == torch.float32 and not torch.is_autocast_enabled("cpu")


def test_features_move_to_the_model_device():
    layer = torch.nn.Linear(2, 2)
    batch = devices.to_device({"input_ids": torch.ones(1, 2), "text": ["x"]}, devices.module_device(layer))
    assert batch["input_ids"].device == next(layer.parameters()).device and batch["text"] == ["x"]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, needs_cuda])])
def test_restored_rng_state_replays_the_same_dropout_masks(device):
    # Given the RNG state saved before a dropout pass on the device
    dropout = torch.nn.Dropout(0.5)
    x = torch.ones(1000, device=device)
    saved = devices.rng_state(device)
    first = dropout(x)
    # When the state is restored and the pass is repeated, Then the masks are identical
    devices.set_rng_state(saved, device)
    assert torch.equal(dropout(x), first), "restoring the state must replay the masks on the model's device"
    assert not torch.equal(dropout(x), first), "without the restore the masks differ"


@pytest.mark.gpu
@needs_cuda
def test_cuda_dtype_is_bf16_where_supported_else_fp16():
    expected = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    assert devices.autocast_dtype("cuda", "bf16") == expected


def test_cuda_without_bf16_falls_back_to_fp16_with_a_scaler(monkeypatch):
    # Given a CUDA device whose GPU lacks bf16 (faked: the decision only reads the capability flag)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    # When bf16 is requested, Then fp16 runs and it gets a loss scaler; fp32 stays fp32 without one
    assert devices.autocast_dtype("cuda", "bf16") == "fp16"
    assert devices.autocast_dtype("cuda:0", "fp32") == "fp32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert devices.autocast_dtype("cuda", "bf16") == "bf16", "bf16-capable GPUs keep bf16"
    scaler = devices.grad_scaler("cpu", "fp16")
    assert isinstance(scaler, torch.amp.GradScaler) and scaler.is_enabled()
    assert devices.grad_scaler("cpu", "bf16") is None and devices.grad_scaler("cpu", "fp32") is None
