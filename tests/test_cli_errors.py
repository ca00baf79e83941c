"""mwalign's own errors reach the user as one ``mwalign: error:`` line; anything else keeps its traceback."""

from __future__ import annotations

import json
import os
import shutil
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


# --- Bad inputs of issue 13: each is one `mwalign: error:` line naming the file or parameter, exit 2, nothing written.


def _one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2, f"bad input exits with status 2: {err}"
    assert err.startswith("mwalign: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def user_model(tmp_path_factory) -> Path:
    """A real (tiny) sentence-transformers folder, as a user would pass to `mwalign evaluate`."""
    from tests.evaluation.conftest import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("user-model"))


def _damaged_copy(model: Path, tmp_path: Path, how: str) -> Path:
    folder = shutil.copytree(model, tmp_path / f"model-{how}")
    weights = folder / "model.safetensors"
    raw = weights.read_bytes()
    if how == "truncated":
        weights.write_bytes(raw[: len(raw) // 2])
    else:  # garbled header: the length prefix stays, the JSON after it is overwritten
        weights.write_bytes(raw[:8] + b"#" * 16 + raw[24:])
    return folder


@pytest.mark.parametrize("how", ["truncated", "garbled"])
def test_damaged_safetensors_is_one_line_naming_the_file(user_model, tmp_path, capsys, how):
    # Given a model folder whose model.safetensors is truncated or has a garbled header
    folder = _damaged_copy(user_model, tmp_path, how)
    # When it is evaluated
    code = cli.main(["evaluate", str(folder), "--output", str(tmp_path / "out")])
    # Then one line names the weight file, and no results folder is created
    err = _one_line_error(capsys, code)
    assert f"{folder / 'model.safetensors'}: not a readable safetensors file" in err, err
    assert not (tmp_path / "out").exists(), "nothing may be written for a damaged model"


def test_damaged_safetensors_is_named_when_loading_and_fingerprinting(user_model, tmp_path):
    # Given a truncated copy (as the training stage loads a base model folder, and provenance fingerprints it)
    from mwalign import models
    from mwalign.models.fingerprint import BadWeightsError

    folder = _damaged_copy(user_model, tmp_path, "truncated")
    # Then both name the file instead of raising safetensors' own error
    with pytest.raises(BadWeightsError, match=r"model\.safetensors: not a readable safetensors file"):
        models.load(folder)
    with pytest.raises(BadWeightsError, match=r"model\.safetensors: not a readable safetensors file"):
        models.fingerprint(folder)


def test_evaluate_output_that_is_a_file_is_refused(user_model, tmp_path, capsys):
    # Given --output naming an existing file
    target = tmp_path / "results.txt"
    target.write_text("mine")
    # When evaluating into it, Then one line names --output, and the file is untouched
    code = cli.main(["evaluate", str(user_model), "--output", str(target)])
    err = _one_line_error(capsys, code)
    assert f"--output {target}: is a file, not a folder; choose another --output" in err, err
    assert target.read_text() == "mine"


@pytest.mark.parametrize(("setting", "where"), [
    ("evaluation.tasks=[Tatoeba, NoSuchTask]", "evaluation.tasks"),
    ("evaluation.role_tasks={me5: [NoSuchTask]}", "evaluation.role_tasks.me5"),
])
@pytest.mark.parametrize("command", ["run", "corpus", "train", "evaluate"])
def test_unknown_task_names_fail_before_any_stage(tmp_path, capsys, command, setting, where):
    # Given an evaluation task name that no registry knows
    run_dir = tmp_path / "run"
    # When any command loads the profile
    code = cli.main([command, "--set", setting, "--run-dir", str(run_dir), *(["--no-book"] if command == "run" else [])])
    # Then the name and where it was set are the one line, and no run dir is created
    err = _one_line_error(capsys, code)
    assert f"{where}: unknown task 'NoSuchTask'; known tasks: " in err, err
    assert not run_dir.exists(), "nothing may run for a bad task name"


def test_evaluate_unknown_tasks_flag_is_refused(user_model, tmp_path, capsys):
    code = cli.main(["evaluate", str(user_model), "--tasks", "Tatoba", "--output", str(tmp_path / "out")])
    assert "--tasks: unknown task 'Tatoba'" in _one_line_error(capsys, code)
    assert not (tmp_path / "out").exists()


def test_missing_data_dir_refuses_the_corpus_before_translating(tmp_path, capsys, monkeypatch):
    # Given MWALIGN_DATA_DIR pointing at a folder that does not exist
    missing = tmp_path / "no-such-data"
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(missing))
    from mwalign.corpus.backends import apertium

    monkeypatch.setattr(apertium.ApertiumBackend, "_translate", lambda *a: pytest.fail("translated"))
    run_dir = tmp_path / "run"
    # When the corpus stage runs
    code = cli.main(["corpus", "--run-dir", str(run_dir)])
    # Then it refuses, naming the folder and the flag that allows it, and leaves no run dir
    err = _one_line_error(capsys, code)
    assert f"data dir {missing} (MWALIGN_DATA_DIR) does not exist" in err and "corpus.allow_missing_exclusion" in err
    assert not run_dir.exists(), "the run dir is left as it was"


def test_non_finite_loss_is_one_line(monkeypatch, capsys):
    # Given the training loop's own error for a NaN loss (a FloatingPointError, not a ValueError)
    from mwalign.training.loop import NonFiniteLossError

    def diverge(args) -> None:
        raise NonFiniteLossError("non-finite loss nan at step 3; lower training.learning_rate")

    monkeypatch.setattr(cli, "cmd_train", diverge)
    # Then the handler shows it as one line
    assert "non-finite loss nan at step 3" in _one_line_error(capsys, cli.main(["train"]))


def test_fingerprint_of_a_file_is_one_line(monkeypatch, capsys, tmp_path):
    # Given the fingerprint of a path that is a file, not a model folder (NotADirectoryError)
    from mwalign import models

    afile = tmp_path / "model.bin"
    afile.write_bytes(b"x")
    monkeypatch.setattr(cli, "cmd_models", lambda args: models.fingerprint(afile))
    # Then it reaches the user as one line naming the path
    assert f"{afile}: not a model folder" in _one_line_error(capsys, cli.main(["models", "prepare"]))


# --- Issue 29: model folders that SentenceTransformer would load incompletely are refused, naming what is missing.


def _bigger_tokenizer(tmp_path: Path, entries: int) -> Path:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *(f"w{i}" for i in range(entries))]
    path = tmp_path / "big-tokenizer.json"
    Tokenizer(WordLevel({word: i for i, word in enumerate(words)}, unk_token="[UNK]")).save(str(path))
    return path


@pytest.mark.parametrize("damage", ["no-tokenizer", "foreign-tokenizer", "no-pooling-config"])
def test_an_incomplete_model_folder_is_refused_naming_what_is_missing(user_model, tmp_path, capsys, damage):
    # Given a copy of a working model folder with one part missing or foreign
    folder = shutil.copytree(user_model, tmp_path / f"model-{damage}")
    if damage == "no-tokenizer":  # config.json + model.safetensors only: every word would become <unk>
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
            (folder / name).unlink(missing_ok=True)
        says = f"{folder}: no tokenizer files (one of tokenizer.json, vocab.txt"
    elif damage == "foreign-tokenizer":  # a tokenizer with more entries than the embedding matrix has rows
        shutil.copy(_bigger_tokenizer(tmp_path, 5000), folder / "tokenizer.json")
        says = "the tokenizer has 5005 entries but the embedding matrix (config.json vocab_size) has"
    else:
        (folder / "1_Pooling" / "config.json").unlink()
        says = "modules.json lists a pooling module, but 1_Pooling/config.json is missing"
    capsys.readouterr()
    # When it is evaluated, Then one line says what is missing, and nothing is written
    code = cli.main(["evaluate", str(folder), "--output", str(tmp_path / "out")])
    assert says in _one_line_error(capsys, code)
    assert not (tmp_path / "out").exists()


def test_the_complete_model_folder_passes_the_check(user_model):
    from mwalign.models.registry import check_complete

    check_complete(user_model)  # the undamaged original: no error


# --- Issue 29: settings accepted and ignored, and messages that pointed at the wrong place, as the CLI shows them.


@pytest.mark.parametrize(("args", "says"), [
    (["--set", "evaluation.unseen=[spa]"], "--set evaluation.unseen=[spa]: spa in corpus.pool"),
    (["--set", "training.batch_size=0"], "--set training.batch_size=0: Input should be greater than or equal to 2"),
    (["--set", "corpus.pool=[spa, xxq]"], "--set corpus.pool=[spa, xxq]: unknown language code 'xxq'"),
    (["--set", "training.temperature_grid_steps=5"], "training.temperature_grid_steps is set but is read only with"),
    (["--profile", "params/"], "is a folder, not a profile file"),
], ids=["pool-language-unseen", "set-named", "pool-once", "ignored-setting", "profile-folder"])
@pytest.mark.parametrize("command", ["train", "run"])
def test_bad_settings_are_one_line_naming_their_source_before_anything_is_written(tmp_path, capsys, command, args,
                                                                                 says):
    run_dir = tmp_path / "run"
    code = cli.main([command, *args, "--run-dir", str(run_dir), *(["--no-book"] if command == "run" else [])])
    err = _one_line_error(capsys, code)
    assert says in err and err.count("corpus.pool:") <= 1, err
    assert not run_dir.exists() and list(tmp_path.iterdir()) == [], "nothing may be written for a bad setting"


def test_a_profile_with_a_repeated_key_is_one_line_naming_both_lines(tmp_path, capsys):
    profile = tmp_path / "mine.yml"
    profile.write_text("name: mine\ntraining:\n  seeds: [0]\n  seeds: [1]\n", encoding="utf-8")
    code = cli.main(["plan", "--profile", str(profile), "--run-dir", str(tmp_path / "run")])
    assert f"{profile}: key 'seeds' appears twice, on lines 3 and 4" in _one_line_error(capsys, code)
