"""mwalign's own errors reach the user as one ``mwalign: error:`` line; anything else keeps its traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mwalign import cli, languages

REPO = Path(__file__).resolve().parents[1]


def _failing_command(exc_factory):
    def command(args) -> None:
        exc_factory()

    return command


def test_error_raised_by_mwalign_code_is_one_line_exit_2(monkeypatch, capsys):
    # Given a stage whose package code raises a plain ValueError with a message naming the parameter
    monkeypatch.setattr(cli, "cmd_models", _failing_command(lambda: languages.get("xxx", where="corpus.pool")))
    # When the CLI runs it
    code = cli.main(["models", "prepare"])
    # Then the user sees one prefixed line and exit status 2, no traceback
    err = capsys.readouterr().err
    assert code == 2, "own errors exit with status 2"
    assert err.startswith("mwalign: error: corpus.pool: unknown language code 'xxx'") and err.count("\n") == 1, err


def test_library_error_keeps_its_traceback(monkeypatch):
    # Given a stage that fails inside a library (json's decoder raises a ValueError subclass)
    monkeypatch.setattr(cli, "cmd_models", _failing_command(lambda: json.loads("{")))
    # When the CLI runs it, Then the error propagates (Python prints the traceback) instead of becoming one line
    with pytest.raises(json.JSONDecodeError):
        cli.main(["models", "prepare"])


def test_library_runtime_error_keeps_its_traceback(monkeypatch):
    # Given a RuntimeError raised outside mwalign (as torch raises shape errors)
    def boom() -> None:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(cli, "cmd_models", _failing_command(boom))
    # Then it is not swallowed into one line
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        cli.main(["models", "prepare"])


def test_installed_program_prints_own_error_with_prefix():
    # Given the installed console script and an unknown local model name
    script = Path(sys.executable).with_name("mwalign")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # When it runs
    out = subprocess.run([str(script), "models", "prepare", "no-such-model"], capture_output=True, text=True, env=env)
    # Then stderr is the one prefixed line naming the model, and the status is 2
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("mwalign: error: unknown local model 'no-such-model'"), out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
