"""The CLI validates before working and reports errors as one line naming the parameter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mwalign import cli


def test_bad_override_is_one_line_exit_2(capsys, tmp_path):
    code = cli.main(["run", "--profile", "smoke", "--set", "training.batch_size=1", "--book-root", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "training.batch_size" in err, err


def test_unknown_stage_is_rejected(capsys, tmp_path):
    code = cli.main(["run", "--profile", "smoke", "--only", "data,trian", "--book-root", str(tmp_path), "--no-book"])
    assert code == 2 and "unknown stage" in capsys.readouterr().err


def test_every_stage_has_a_subcommand():
    # Given the pipeline's stages, Then each stage's package function is reachable from the CLI
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"run", "book", "corpus", "train", "me5", "evaluate", "models"} <= set(commands)


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("mwalign")
    out = subprocess.run([str(script), "run", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--profile" in out.stdout, out.stderr
