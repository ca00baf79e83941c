"""Every caption names where the numbers come from and the command that regenerates them."""

from __future__ import annotations

import json

from mwalign.config import REPO_ROOT, load_config, run_dir_for
from mwalign.devices import autocast_dtype
from mwalign.reporting import provenance


def test_caption_carries_provenance_and_the_regenerating_command(tmp_path):
    # Given a chapter of the smoke profile with overrides, in a non-default run dir
    overrides = {"training": {"seeds": [0, 1], "loss": {"anchors": "english"}}}
    cfg = load_config("smoke", overrides)
    caption = provenance.Captions(cfg, tmp_path / "my run", stage="train", overrides=overrides)
    text = caption.text(dtype="bf16")
    # Then it lists profile, parameter hash, corpus hash, commit, versions and the dtype that runs here (no model
    # recorded one: fp32 on a CPU without bf16 matrix units)
    here = autocast_dtype("cpu", "bf16")
    for part in ("profile `smoke`", f"parameters `{cfg.section_hash('corpus', 'training', 'me5', 'evaluation')}`",
                 "corpus `none`", "commit `", "torch ", "mteb ", f"dtype {here}", "CPU kernels "):
        assert part in text, part
    # And the command reruns exactly this stage with the same parameters, pasteable into a shell
    assert text.endswith(
        "*Regenerate:* `mwalign run --profile smoke --only train --set 'training.seeds=[0, 1]' "
        "--set training.loss.anchors=english --run-dir RUN_DIR`"
    ), text
    # And a run dir outside the repository is a placeholder: a published page names no path of the build machine
    assert str(tmp_path) not in text


def test_run_dir_inside_the_repository_is_given_relative_to_it():
    cfg = load_config("cpu")
    command = provenance.regenerate_command(cfg, REPO_ROOT / "runs" / "my run", "results")
    assert command == "mwalign run --profile cpu --only results --run-dir 'runs/my run'", command


def test_default_run_dir_and_no_overrides_give_the_short_command():
    cfg = load_config("cpu")
    assert provenance.regenerate_command(cfg, run_dir_for(cfg), "results") == "mwalign run --profile cpu --only results"


def test_commit_is_dirty_for_code_changes_but_not_for_the_runs_own_outputs(tmp_path):
    import subprocess

    # Given a committed checkout with code, an executed chapter and the README
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)  # fmt: skip

    (tmp_path / "book" / "chapters").mkdir(parents=True)
    files = {"code.py": "x = 1\n", "book/chapters/01_data.ipynb": "{}\n", "README.md": "# r\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "c")
    # When the run rewrites its chapter and the README's headline, Then the commit stays clean
    (tmp_path / "book/chapters/01_data.ipynb").write_text('{"executed": true}\n')
    (tmp_path / "README.md").write_text("# r, with a headline\n")
    clean = provenance.git_commit.__wrapped__(tmp_path)
    assert clean and "+dirty" not in clean, clean
    # And a change to code marks it dirty
    (tmp_path / "code.py").write_text("x = 2\n")
    assert provenance.git_commit.__wrapped__(tmp_path) == clean + "+dirty"


def test_the_caption_gives_the_dtype_that_ran_not_the_one_asked_for(tmp_path):
    import pandas as pd

    # Given a run whose models trained in fp32 (a CPU without bf16 units) though the profile asks for bf16,
    # and whose scores were computed in bf16
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "index.json").write_text(json.dumps([
        {"label": "m-base", "role": "unaligned", "method": "base", "dtype": "bf16"},
        {"label": "m-multiway-s0", "role": "unaligned", "method": "multiway", "dtype": "fp32"}]))
    (tmp_path / "results").mkdir()
    pd.DataFrame({"score": [0.5], "dtype": ["bf16"]}).to_parquet(tmp_path / "results" / "scores.parquet")
    cfg = load_config("smoke")
    # Then the training chapter's caption names fp32 and what was asked, the evaluation chapter's bf16
    train = provenance.Captions(cfg, tmp_path, stage="train").text(dtype="bf16")
    assert "dtype fp32 (asked: bf16; without bf16 matrix units autocast runs fp32)" in train, train
    assert "dtype bf16;" in provenance.Captions(cfg, tmp_path, stage="results").text(dtype="bf16")
