"""Every caption names where the numbers come from and the command that regenerates them."""

from __future__ import annotations

from mwalign.config import load_config, run_dir_for
from mwalign.reporting import provenance


def test_caption_carries_provenance_and_the_regenerating_command(tmp_path):
    # Given a chapter of the smoke profile with overrides, in a non-default run dir
    overrides = {"training": {"seeds": [0, 1], "loss": {"anchors": "english"}}}
    cfg = load_config("smoke", overrides)
    caption = provenance.Captions(cfg, tmp_path / "my run", stage="train", overrides=overrides)
    text = caption.text(dtype="bf16")
    # Then it lists profile, parameter hash, corpus hash, commit, versions and dtype
    for part in ("profile `smoke`", f"parameters `{cfg.section_hash('corpus', 'training', 'me5', 'evaluation')}`",
                 "corpus `none`", "commit `", "torch ", "mteb ", "dtype bf16"):
        assert part in text, part
    # And the command reruns exactly this stage with the same parameters, pasteable into a shell
    assert text.endswith(
        "*Regenerate:* `mwalign run --profile smoke --only train --set 'training.seeds=[0, 1]' "
        f"--set training.loss.anchors=english --run-dir '{tmp_path / 'my run'}'`"
    ), text


def test_default_run_dir_and_no_overrides_give_the_short_command():
    cfg = load_config("cpu")
    assert provenance.regenerate_command(cfg, run_dir_for(cfg), "results") == "mwalign run --profile cpu --only results"
