"""The training loop: exact resume, early stopping, GradCache equivalence, NaN and checkpoint errors."""

from __future__ import annotations

import json
import math

import pytest
import torch
from sentence_transformers import SentenceTransformer

from mwalign.training.data import make_batch, rows_from_frame
from mwalign.training.encoding import forward_embeddings
from mwalign.training.grad_cache import grad_cache_backward
from mwalign.training.loop import TrainSettings, eval_interval, train
from mwalign.training.losses import MultiWayContrastiveLoss

from .conftest import FIXTURE_LANGUAGES, corpus_frame


class Killed(Exception):
    """Stands in for SIGKILL: the loop is abandoned mid-epoch, only the files on disk survive."""


@pytest.fixture()
def rows(fixture_lines):
    return rows_from_frame(corpus_frame({k: v[:16] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES), "train")


@pytest.fixture()
def dev(fixture_lines):
    return rows_from_frame(corpus_frame({k: v[16:] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES), "dev")


def _settings(**kw):
    base = dict(batch_size=4, epochs=2, learning_rate=1e-3, seed=3, eval_every=3, patience=10, dtype="fp32",
                show_progress=False)
    return TrainSettings(**{**base, **kw})


def _logged_losses(work_dir):
    return [json.loads(line)["loss"] for line in (work_dir / "train_log.jsonl").read_text().splitlines()]


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_resume_after_kill_reaches_the_same_final_weights(tiny_model_dir, rows, dev, tmp_path):
    # Given an uninterrupted run (dropout on, drift on) over 2 epochs of 4 batches
    settings = _settings()
    straight = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(straight, MultiWayContrastiveLoss(straight, drift_weight=0.01), rows, dev, settings, tmp_path / "a")
    # When a second run is killed mid-epoch at step 5 (checkpoint at step 3) and rerun from its files
    first = SentenceTransformer(str(tiny_model_dir), device="cpu")

    def kill_at_5(step, record):
        if step == 5:
            raise Killed

    with pytest.raises(Killed):
        train(first, MultiWayContrastiveLoss(first, drift_weight=0.01), rows, dev, settings, tmp_path / "b",
              on_step=kill_at_5)
    torch.manual_seed(12345)  # a fresh process would have a different RNG state; resume must restore it
    resumed = SentenceTransformer(str(tiny_model_dir), device="cpu")
    result = train(resumed, MultiWayContrastiveLoss(resumed, drift_weight=0.01), rows, dev, settings,
                   tmp_path / "b", resume="require")
    # Then the final weights and the log equal the uninterrupted run's
    assert result.steps == 8
    for name, value in _weights(straight).items():
        assert torch.equal(value, resumed.state_dict()[name]), f"{name} differs after resume"
    log_a = _logged_losses(tmp_path / "a")
    log_b = _logged_losses(tmp_path / "b")
    assert log_a == log_b, "the resumed log must replay the same losses with no duplicated steps"


def test_early_stopping_stops_after_patience_and_restores_best(tiny_model, rows, dev, tmp_path):
    # Given a learning rate of 0 (the dev metric can never improve after the first evaluation)
    settings = _settings(learning_rate=1e-12, epochs=20, eval_every=1, patience=2)
    # When training runs
    result = train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, dev, settings, tmp_path)
    # Then it stops after 1 + patience evaluations, keeping the first (best) one
    assert result.stopped_early and result.steps == 3, result
    assert result.best_step == 1 and len(result.history) == 3
    assert result.stop_reason == "patience", result.stop_reason


def test_the_returned_model_carries_the_best_evaluations_weights(tiny_model, rows, dev, tmp_path):
    # Given a run with a high learning rate whose dev curve is not monotone, evaluated every step
    settings = _settings(learning_rate=5e-2, epochs=3, eval_every=1, patience=50)
    # When training ends
    result = train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, dev, settings, tmp_path)
    # Then the model in hand scores the best dev accuracy of the curve, not the last one
    from mwalign.training.dev_metric import bitext_accuracy
    curve = [h["dev_metric"] for h in result.history]
    assert curve[-1] < max(curve), f"the fixture must give a curve that falls after its best: {curve}"
    assert result.best_metric == max(curve) and result.best_step == result.history[curve.index(max(curve))]["step"]
    assert bitext_accuracy(tiny_model, dev, dtype="fp32") == pytest.approx(result.best_metric, abs=1e-6)


def test_stop_reason_names_the_cap_that_ended_the_run(tiny_model_dir, rows, dev, tmp_path):
    # Given 16 rows in batches of 4 (4 steps per epoch) and patience too large to trigger
    capped = SentenceTransformer(str(tiny_model_dir), device="cpu")
    full = SentenceTransformer(str(tiny_model_dir), device="cpu")
    # When one run is capped at 3 steps and the other runs its 2 epochs
    by_steps = train(capped, MultiWayContrastiveLoss(capped), rows, dev, _settings(max_steps=3, patience=50),
                     tmp_path / "a")
    by_epochs = train(full, MultiWayContrastiveLoss(full), rows, dev, _settings(max_steps=100, patience=50),
                      tmp_path / "b")
    # Then each names its own cap, and the dev curve holds every evaluation up to the stop step
    assert (by_steps.stop_reason, by_steps.steps, by_steps.epochs_run) == ("max_steps", 3, 0.75), by_steps
    assert (by_epochs.stop_reason, by_epochs.steps, by_epochs.epochs_run) == ("epochs", 8, 2.0), by_epochs
    assert [h["step"] for h in by_epochs.history] == [3, 6, 8], by_epochs.history


def test_evaluations_per_epoch_spaces_dev_evaluations_by_epoch_not_by_steps(tiny_model_dir, rows, dev, tmp_path):
    # Given 16 rows: batches of 4 give 4 steps per epoch, batches of 2 give 8
    histories = {}
    for batch_size in (4, 2):
        model = SentenceTransformer(str(tiny_model_dir), device="cpu")
        settings = _settings(batch_size=batch_size, eval_every=1, evaluations_per_epoch=2, patience=50)
        # When each trains 2 epochs with two dev evaluations per epoch (eval_every is overridden)
        result = train(model, MultiWayContrastiveLoss(model), rows, dev, settings, tmp_path / str(batch_size))
        histories[batch_size] = [h["step"] for h in result.history]
    # Then both evaluate at the middle and end of every epoch, whatever an epoch's length in steps
    assert histories == {4: [2, 4, 6, 8], 2: [4, 8, 12, 16]}, histories
    assert eval_interval(7, _settings(evaluations_per_epoch=2)) == 4  # an uneven epoch rounds the interval up
    assert eval_interval(7, _settings(eval_every=3)) == 3


def test_training_improves_dev_accuracy(tiny_model, rows, dev, tmp_path):
    # Given the tiny random encoder, When trained for a few epochs on 16 rows
    settings = _settings(epochs=6, eval_every=4, batch_size=8)
    from mwalign.training.dev_metric import bitext_accuracy
    before = bitext_accuracy(tiny_model, rows, dtype="fp32")
    train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, rows, settings, tmp_path)
    # Then bitext retrieval on the training rows gets better (the loss optimises what the metric measures)
    after = bitext_accuracy(tiny_model, rows, dtype="fp32")
    assert after > before + 0.3, f"retrieval accuracy must rise: {before:.3f} -> {after:.3f}"


def test_grad_cache_matches_plain_loss_and_gradients(tiny_model, rows):
    # Given one batch of 4 rows x 4 languages and the model in eval mode (no dropout randomness)
    tiny_model.eval()
    batch = make_batch(rows, [0, 3, 5, 9])
    loss = MultiWayContrastiveLoss(tiny_model, hard_positive_weight=1.0)
    plain = loss.loss_from_embeddings(forward_embeddings(tiny_model, batch.texts, "fp32"), batch.labels)
    plain.backward()
    plain_grads = {n: p.grad.clone() for n, p in tiny_model.named_parameters() if p.grad is not None}
    tiny_model.zero_grad()
    # When the same batch goes through GradCache in chunks of 3 sentences
    cached = grad_cache_backward(tiny_model, loss, batch.texts, batch.labels, mini_batch_size=3, dtype="fp32")
    # Then loss and every parameter gradient agree
    assert torch.allclose(plain, cached, atol=1e-6), "GradCache loss must equal the plain loss"
    for name, grad in plain_grads.items():
        got = dict(tiny_model.named_parameters())[name].grad
        assert torch.allclose(grad, got, atol=1e-5, rtol=1e-4), f"GradCache gradient differs for {name}"


def test_nan_loss_stops_with_step_and_batch_named(tiny_model, rows, tmp_path):
    # Given a model whose weights are NaN
    with torch.no_grad():
        for p in tiny_model.parameters():
            p.fill_(float("nan"))
    # Then the first step fails naming the step, the batch and the roots
    with pytest.raises(FloatingPointError, match=r"at step 1 \(epoch 0, batch 1/4, roots \['r0"):
        train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, None, _settings(), tmp_path)


def test_corrupt_or_missing_checkpoint_is_a_clear_error(tiny_model_dir, rows, tmp_path):
    # Given a finished run whose checkpoint is then truncated
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(model, MultiWayContrastiveLoss(model), rows, None, _settings(max_steps=3), tmp_path / "run")
    (tmp_path / "run" / "checkpoint" / "state.safetensors").write_bytes(b"\x00garbage")
    # Then resuming names the checkpoint and the fix
    fresh = SentenceTransformer(str(tiny_model_dir), device="cpu")
    with pytest.raises(RuntimeError, match="corrupt checkpoint.*delete"):
        train(fresh, MultiWayContrastiveLoss(fresh), rows, None, _settings(max_steps=3), tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        train(fresh, MultiWayContrastiveLoss(fresh), rows, None, _settings(), tmp_path / "empty", resume="require")


def test_changed_settings_refuse_a_foreign_checkpoint(tiny_model_dir, rows, tmp_path):
    # Given a checkpoint left by a run with other settings
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(model, MultiWayContrastiveLoss(model), rows, None, _settings(max_steps=3), tmp_path)
    # Then an explicit resume refuses it, naming the mismatch
    with pytest.raises(RuntimeError, match="different settings"):
        train(model, MultiWayContrastiveLoss(model), rows, None, _settings(max_steps=3, seed=9), tmp_path,
              resume="require")


def test_auto_resume_restarts_when_the_checkpoint_is_of_other_settings(tiny_model_dir, rows, tmp_path):
    # Given a checkpoint of seed 0 in the work dir
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(model, MultiWayContrastiveLoss(model), rows, None, _settings(max_steps=3), tmp_path / "run")
    # When seed 9 trains there with resume="auto", and separately in a clean dir
    stale = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(stale, MultiWayContrastiveLoss(stale), rows, None, _settings(max_steps=3, seed=9), tmp_path / "run")
    clean = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(clean, MultiWayContrastiveLoss(clean), rows, None, _settings(max_steps=3, seed=9), tmp_path / "clean")
    # Then the stale checkpoint was discarded: both runs end with the same weights
    for (name, a), b in zip(stale.state_dict().items(), clean.state_dict().values()):
        assert torch.equal(a, b), f"{name} differs: the foreign checkpoint leaked into the new run"


def test_frozen_word_embeddings_do_not_move(tiny_model, rows, tmp_path):
    # Given freeze_word_embeddings
    embeddings = tiny_model[0].auto_model.get_input_embeddings().weight
    before = embeddings.detach().clone()
    encoder_before = tiny_model[0].auto_model.encoder.layer[0].attention.self.query.weight.detach().clone()
    # When training runs
    train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, None,
          _settings(max_steps=2, freeze_word_embeddings=True), tmp_path)
    # Then the word embeddings are unchanged while the encoder moved
    assert torch.equal(before, embeddings), "frozen word embeddings must not change"
    assert not torch.equal(encoder_before, tiny_model[0].auto_model.encoder.layer[0].attention.self.query.weight)


def test_bf16_autocast_trains_with_finite_loss(tiny_model, rows, tmp_path):
    # Given bf16 (the loop takes the effective dtype; CPU autocast runs bf16 even without native support)
    # and a hook that records what the first attention projection computes in
    seen = []
    query = tiny_model[0].auto_model.encoder.layer[0].attention.self.query
    hook = query.register_forward_hook(
        lambda module, inputs, output: seen.append((torch.is_autocast_enabled("cpu"), output.dtype)))
    # When it trains for two steps
    try:
        result = train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, None,
                       _settings(max_steps=2, dtype="bf16"), tmp_path)
    finally:
        hook.remove()
    # Then every forward pass ran under CPU autocast with bf16 activations
    assert seen and set(seen) == {(True, torch.bfloat16)}, f"bf16 autocast did not run: {sorted(set(seen), key=str)}"
    # And both steps logged a finite loss (no NaN, no +-inf) while the weights stayed finite fp32
    losses = _logged_losses(tmp_path)
    assert result.steps == 2 and len(losses) == 2 and all(map(math.isfinite, losses)), f"losses {losses}"
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in tiny_model.parameters())


def _without_dropout(model):
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if hasattr(module, "dropout_prob"):  # what SDPA attention reads instead of its nn.Dropout
            module.dropout_prob = 0.0
    return model


def test_eager_attention_trains_the_same_and_is_switched_back(tiny_model_dir, rows, tmp_path):
    # Given two copies of one model without dropout, one trained with the model's SDPA, one with eager attention
    runs = {}
    for attention in (None, "eager"):
        model = _without_dropout(SentenceTransformer(str(tiny_model_dir), device="cpu"))
        kernels = []
        train(model, MultiWayContrastiveLoss(model), rows, None, _settings(max_steps=3, attention=attention),
              tmp_path / str(attention),
              on_step=lambda step, record: kernels.append(model[0].auto_model.config._attn_implementation))
        runs[attention] = (model, kernels, _logged_losses(tmp_path / str(attention)))
    # Then the eager run stepped with eager attention and handed the model back with its own kernel
    assert runs["eager"][1] == ["eager"] * 3 and runs[None][1] == ["sdpa"] * 3
    assert runs["eager"][0][0].auto_model.config._attn_implementation == "sdpa"
    # And both kernels compute the same losses and weights
    assert runs["eager"][2] == pytest.approx(runs[None][2], rel=1e-5)
    for (name, a), b in zip(runs[None][0].state_dict().items(), runs["eager"][0].state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=f"{name} differs between kernels")


def test_attention_on_a_model_without_transformers_backbone_is_a_clear_error(rows, tmp_path):
    model = SentenceTransformer(modules=[torch.nn.Identity()], device="cpu")
    with pytest.raises(ValueError, match="training.attention='eager'"):
        train(model, MultiWayContrastiveLoss(model), rows, None, _settings(max_steps=1, attention="eager"), tmp_path)


_KILLED_DRIVER = """
import os, signal, sys
import torch
torch.set_num_threads(1)
import pandas as pd
from sentence_transformers import SentenceTransformer
from mwalign.training.data import rows_from_frame
from mwalign.training.loop import TrainSettings, eval_interval, train
from mwalign.training.losses import MultiWayContrastiveLoss

model_dir, rows_path, work_dir = sys.argv[1:4]
rows = rows_from_frame(pd.read_parquet(rows_path), "train")
model = SentenceTransformer(model_dir, device="cpu")
settings = TrainSettings(batch_size=4, epochs=2, learning_rate=1e-3, seed=3, eval_every=3, dtype="fp32",
                         show_progress=False)

def sigkill_at_5(step, record):
    if step == 5:
        os.kill(os.getpid(), signal.SIGKILL)

train(model, MultiWayContrastiveLoss(model), rows, None, settings, __import__("pathlib").Path(work_dir),
      on_step=sigkill_at_5)
"""


@pytest.mark.slow
def test_sigkilled_process_resumes_to_the_same_weights(tiny_model_dir, fixture_lines, rows, tmp_path):
    import signal
    import subprocess
    import sys

    # Given a training process SIGKILLed mid-epoch at step 5 (last checkpoint at step 3)
    corpus_frame({k: v[:16] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES).to_parquet(tmp_path / "r.parquet")
    driver = tmp_path / "driver.py"
    driver.write_text(_KILLED_DRIVER)
    done = subprocess.run([sys.executable, str(driver), str(tiny_model_dir), str(tmp_path / "r.parquet"),
                           str(tmp_path / "killed")], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, f"the driver must die by SIGKILL: {done.stderr[-500:]}"
    # When the run is repeated in this process (resume from the files), and compared with an uninterrupted run
    settings = _settings(eval_every=3)
    resumed = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(resumed, MultiWayContrastiveLoss(resumed), rows, None, settings, tmp_path / "killed", resume="require")
    straight = SentenceTransformer(str(tiny_model_dir), device="cpu")
    train(straight, MultiWayContrastiveLoss(straight), rows, None, settings, tmp_path / "straight")
    # Then the final weights are identical
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), f"{name} differs after SIGKILL + resume"


def test_token_cache_rebuilds_the_tokenizers_features(tiny_model, rows):
    # Given the per-run token cache of every training sentence
    from mwalign.training.encoding import TokenCache

    texts = rows.all_sentences
    cache = TokenCache(tiny_model, texts, chunk=7)  # chunks pad differently from the batches below
    # When a batch's features come from the cache
    for ids in ([0, 5, 9, 2], list(range(len(texts)))[::3], [11]):
        expected = tiny_model.preprocess([texts[i] for i in ids])
        got = cache.features(ids)
        # Then they equal tokenising the batch's texts, key by key
        assert list(got) == list(expected), "the cache's feature keys differ from preprocess's"
        for key in TokenCache.KEYS:
            if key in expected:
                assert torch.equal(got[key], expected[key]), f"{key} differs from tokenising the batch"


def test_tokenising_once_trains_to_the_same_losses(tiny_model_dir, rows, tmp_path, monkeypatch):
    # Given the same run with the token cache on and off
    from mwalign.training import loop

    def run(name, **kw):
        model = SentenceTransformer(str(tiny_model_dir))
        train(model, MultiWayContrastiveLoss(model), rows, None, _settings(epochs=1, **kw), tmp_path / name)
        return _logged_losses(tmp_path / name), _weights(model)

    cached_losses, cached_weights = run("cached")
    monkeypatch.setattr(loop, "_token_cache", lambda *a: None)
    plain_losses, plain_weights = run("plain")
    # Then losses and weights are identical
    assert cached_losses == plain_losses, "tokenising once changed the losses"
    assert all(torch.equal(cached_weights[k], plain_weights[k]) for k in plain_weights), "weights differ"


def test_length_grouping_and_fused_optimizer_train(tiny_model, rows, tmp_path):
    # When a run groups rows by length and steps with fused AdamW
    result = train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, None,
                   _settings(epochs=1, length_grouping=True, fused_optimizer=True), tmp_path)
    # Then it runs every step with finite losses
    losses = _logged_losses(tmp_path)
    assert result.steps == len(losses) > 0 and all(math.isfinite(v) for v in losses), "grouped run failed"


def test_the_all_language_metric_selects_and_logs_its_standard_error(tiny_model, rows, dev, tmp_path):
    # Given a run that selects by all-language retrieval, evaluated every step
    settings = _settings(learning_rate=5e-2, epochs=2, eval_every=1, patience=50, dev_metric="all-language-mrr")
    result = train(tiny_model, MultiWayContrastiveLoss(tiny_model), rows, dev, settings, tmp_path)
    # Then every evaluation logs the metric with its standard error over dev rows, and the kept weights score the best
    from mwalign.training.dev_metric import dev_score
    assert all(h["dev_se"] is not None and h["dev_se"] >= 0 for h in result.history)
    assert result.best_metric == max(h["dev_metric"] for h in result.history)
    # and every evaluation after the first is compared with the best one before it, on the same rows
    assert "dev_vs_best" not in result.history[0]
    best = result.history[0]["dev_metric"]
    for h in result.history[1:]:
        assert h["dev_vs_best"] == pytest.approx(h["dev_metric"] - best, abs=1e-9) and h["dev_vs_best_se"] >= 0
        best = max(best, h["dev_metric"])
    kept = dev_score(tiny_model, dev, "all-language-mrr", dtype="fp32")
    assert kept.value == pytest.approx(result.best_metric, abs=1e-6) and 0 < kept.value <= 1
