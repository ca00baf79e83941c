"""Training is device-generic: model, features, labels, drift reference and loss live on the configured device."""

from __future__ import annotations

import pytest
import torch

from mwalign.config import load_config
from mwalign.training.data import rows_from_frame
from mwalign.training.loop import TrainSettings, train
from mwalign.training.losses import MultiWayContrastiveLoss
from mwalign.training.stage import training_device
from tests.training.conftest import FIXTURE_LANGUAGES, corpus_frame

DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device")])]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("grad_cache", [None, 6])
def test_a_training_step_runs_where_the_model_is(device, grad_cache, tiny_model, fixture_lines, tmp_path):
    # Given the model on the device and a loss with the drift regulariser (its reference cache included)
    rows = rows_from_frame(corpus_frame({k: v[:16] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES), "t")
    model = tiny_model.to(device)
    loss = MultiWayContrastiveLoss(model, drift_weight=0.1)
    seen = {"features": set(), "labels": set(), "loss": set()}
    model[0].register_forward_pre_hook(
        lambda module, args: seen["features"].add(args[0]["input_ids"].device.type), with_kwargs=False)
    original = loss.loss_from_embeddings

    def recording(embeddings, labels, **kwargs):
        value = original(embeddings, labels, **kwargs)
        seen["labels"].add(labels.device.type)
        seen["loss"].add(value.device.type)
        return value

    loss.loss_from_embeddings = recording
    settings = TrainSettings(batch_size=4, epochs=1, learning_rate=1e-3, seed=0, max_steps=2, dtype="fp32",
                             show_progress=False, grad_cache_mini_batch=grad_cache)
    # When it trains two steps
    result = train(model, loss, rows, None, settings, tmp_path)
    # Then features, labels, loss, drift reference and weights all stayed on that device
    assert result.steps == 2
    assert seen == {"features": {device}, "labels": {device}, "loss": {device}}, seen
    assert loss.reference_embeddings.device.type == device
    assert {p.device.type for p in model.parameters()} == {device}


def test_the_configured_device_is_where_the_stage_trains():
    assert training_device(load_config("smoke", ["device=cpu"])) == torch.device("cpu")
    with pytest.raises(Exception, match="device"):
        load_config("smoke", ["device=tpu"])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("grad_cache", [None, 6])
def test_fp16_steps_go_through_the_grad_scaler(device, grad_cache, tiny_model, fixture_lines, tmp_path, monkeypatch):
    """The fp16 path (CUDA without bf16) runs here on the CPU: scaled backward, unscale, scaler step, update."""
    # Given fp16 settings (what autocast_dtype picks on a GPU without bf16) and a spy on the scaler
    rows = rows_from_frame(corpus_frame({k: v[:16] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES), "t")
    calls = []
    real_step, real_scale = torch.amp.GradScaler.step, torch.amp.GradScaler.scale
    monkeypatch.setattr(torch.amp.GradScaler, "step", lambda self, opt, *a, **k: calls.append("step")
                        or real_step(self, opt, *a, **k))
    monkeypatch.setattr(torch.amp.GradScaler, "scale", lambda self, out: calls.append("scale")
                        or real_scale(self, out))
    model = tiny_model.to(device)
    before = [p.detach().clone() for p in model.parameters()]
    loss = MultiWayContrastiveLoss(model)
    settings = TrainSettings(batch_size=4, epochs=1, learning_rate=1e-3, seed=0, max_steps=2, dtype="fp16",
                             show_progress=False, grad_cache_mini_batch=grad_cache)
    # When it trains two steps
    result = train(model, loss, rows, None, settings, tmp_path)
    # Then both steps were scaled and stepped through the scaler, and the weights moved and stayed finite
    assert result.steps == 2 and calls.count("step") == 2 and calls.count("scale") == 2, calls
    after = list(model.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(b, a.detach()) for b, a in zip(before, after)), "at least one step applied"
