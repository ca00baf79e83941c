"""`mwalign evaluate MODEL... --profile P` scores given models exactly as the profile's evaluate stage does."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from mwalign import cli
from mwalign.evaluation import run_evaluation_stage
from tests.evaluation.test_stage import smoke_config

KEY = ["task", "subset", "split", "metric", "group"]


def profile_file(tmp_path, **evaluation) -> str:
    """The test profile as a YAML file, the way a user passes --profile."""
    path = tmp_path / "profile.yml"
    path.write_text(yaml.safe_dump(smoke_config(**evaluation).model_dump(mode="json", exclude_unset=True)), encoding="utf-8")
    return str(path)


def scores_of(table: pd.DataFrame) -> pd.DataFrame:
    return table[KEY + ["score", "ci_low", "ci_high"]].sort_values(KEY).reset_index(drop=True)


def test_a_run_model_scores_the_same_through_the_stage_and_the_cli(tiny_mirror, run_dir, tmp_path, monkeypatch):
    # Given a run evaluated by its stage (Tatoeba spa, fra, deu; deu unseen; bootstrap 20, max length 32)
    cfg_path = profile_file(tmp_path)
    stage = run_evaluation_stage(smoke_config(), run_dir)
    # When one of its models is evaluated by path with the same profile (the table the CLI prints is kept)
    import mwalign.evaluation.stage as stage_module

    printed = []

    def keep(*args, **kwargs):
        printed.append(real(*args, **kwargs))
        return printed[-1]

    real = stage_module.evaluate_with_profile
    monkeypatch.setattr(stage_module, "evaluate_with_profile", keep)
    code = cli.main(["evaluate", str(run_dir / "models" / "tiny-multiway-s0"), "--profile", cfg_path,
                     "--run-dir", str(run_dir), "--output", str(tmp_path / "cli")])
    # Then every score, interval and seen/unseen group is identical to the stage's
    assert code == 0 and len(printed) == 1
    expected = scores_of(stage[stage["model"] == "tiny-multiway-s0"])
    pd.testing.assert_frame_equal(scores_of(printed[0]), expected)
    assert set(expected["group"]) == {"seen", "unseen"} and len(expected) == 3


def test_without_a_profile_the_cli_says_which_defaults_it_uses(tiny_mirror, tiny_model, tmp_path, capsys):
    code = cli.main(["evaluate", str(tiny_model), "--langs", "spa", "--output", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "scored with library defaults, no --profile (max length 128" in out and "English the only seen" in out


def test_langs_apply_per_task_and_only_a_language_no_task_has_is_refused(real_mirror, tiny_model, tmp_path, capsys):
    # Given a profile scoring Tatoeba and STS17
    cfg_path = profile_file(tmp_path, tasks=["Tatoeba", "STS17"], langs=None, unseen=["deu"], bootstrap=0)
    # When --langs names a language STS17 lacks (hin) beside one both tasks have (spa)
    code = cli.main(["evaluate", str(tiny_model), "--profile", cfg_path, "--langs", "spa", "hin",
                     "--output", str(tmp_path / "a")])
    assert code == 0, capsys.readouterr().err
    table = capsys.readouterr().out
    # Then Tatoeba scores both and STS17 the Spanish subsets only
    assert "hin-eng" in table and "spa-eng" in table and "es-es" in table and "es-en" in table
    assert "en-en" not in table and "en-de" not in table
    # And a language that no task has is one error line naming --langs
    code = cli.main(["evaluate", str(tiny_model), "--profile", cfg_path, "--tasks", "STS17", "--langs", "spa", "hin",
                     "--output", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert code == 2 and "--langs: hin in none of the tasks STS17" in err


@pytest.mark.parametrize("flag", [["--tasks", "Tatoeba"], ["--langs", "spa"], ["--output", "x"]])
def test_model_flags_without_models_are_refused(flag, capsys):
    # A run's evaluation takes these from the profile; accepting them would ignore them silently
    assert cli.main(["evaluate", "--profile", "smoke", *flag]) == 2
    assert f"{flag[0]}: only with MODELs" in capsys.readouterr().err
