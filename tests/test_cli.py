"""The CLI validates before working and reports errors as one line naming the parameter.

The error tests run the installed console script (the program users type), with this checkout first on
PYTHONPATH so it runs the code under test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mwalign import cli
from mwalign.config import REPO_ROOT
from mwalign.pipeline import STAGES

SCRIPT = Path(sys.executable).with_name("mwalign")
# How each pipeline stage is reached on its own: its subcommand, or None for the report-only chapters
# (results, intro), which compute nothing outside their notebook and run with `mwalign run --only <stage>`.
STAGE_SUBCOMMANDS = {"data": "corpus", "train": "train", "me5": "me5", "evaluate": "evaluate",
                     "results": None, "intro": None}


def _mwalign(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)


def test_bad_override_is_one_line_exit_2(tmp_path):
    # When the installed program gets an override that fails validation
    out = _mwalign("run", "--profile", "smoke", "--set", "training.batch_size=1", "--book-root", str(tmp_path))
    # Then it exits 2 with one stderr line that starts with the program's error prefix and names the key
    err = out.stderr.strip()
    assert out.returncode == 2, f"exit {out.returncode}: {err}"
    assert err.startswith("mwalign: error: ") and "\n" not in err and "training.batch_size" in err, err
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_unknown_stage_is_rejected(tmp_path):
    out = _mwalign("run", "--profile", "smoke", "--only", "data,trian", "--book-root", str(tmp_path), "--no-book")
    err = out.stderr.strip()
    assert out.returncode == 2 and err.startswith("mwalign: error: ") and "\n" not in err, err
    assert "unknown stage" in err and "trian" in err, err


def test_every_stage_has_a_subcommand():
    # Given the pipeline's stages (read from mwalign.pipeline, so a new stage fails here until it is wired up)
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    only = next(action for action in commands["run"]._actions if "--only" in action.option_strings)
    listed = only.help.split(" (")[0].split(", ")
    assert set(STAGE_SUBCOMMANDS) == {s.name for s in STAGES}, "a stage was added or removed: map it above"
    # Then each computing stage's package function has its subcommand, and every stage runs through `run --only`
    for stage in STAGES:
        subcommand = STAGE_SUBCOMMANDS[stage.name]
        assert subcommand is None or subcommand in commands, f"stage {stage.name}: no `mwalign {subcommand}`"
    assert listed == [s.name for s in STAGES], f"`mwalign run --only` lists {listed}"
    assert {"run", "book", "models"} <= set(commands)


def test_console_script_is_installed():
    assert SCRIPT.is_file(), f"{SCRIPT}: console script missing; pip install -e ."
    out = _mwalign("run", "--help")
    assert out.returncode == 0 and "--profile" in out.stdout, out.stderr


def test_abbreviated_flags_are_errors_not_guesses(capsys):
    # Given an abbreviation of --profile, When the CLI parses it, Then it is refused rather than expanded
    from mwalign import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["run", "--profil", "smoke"])
    assert exit_info.value.code == 2 and "unrecognized arguments: --profil" in capsys.readouterr().err
