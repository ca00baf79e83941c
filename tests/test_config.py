"""Profiles load into one typed schema; bad keys, values and overrides fail with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mwalign import config
from mwalign.config import load_config


@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
def test_every_shipped_profile_validates(profile):
    # Given a profile shipped in params/, When it is loaded, Then it validates and is named after its file
    cfg = config.load_config(profile)
    assert cfg.name == profile, "a profile's name must match its file so runs/<name> is unambiguous"


def test_unknown_key_names_file_and_key():
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", ["training.batch_sise=8"])
    assert str(err.value).startswith("--set training.batch_sise=8: Extra inputs"), err.value


def test_wrong_type_is_rejected_with_the_key():
    with pytest.raises(config.ConfigError, match=r"training\.batch_size"):
        config.load_config("smoke", ["training.batch_size=many"])


def test_batch_of_one_is_rejected_for_in_batch_negatives():
    with pytest.raises(config.ConfigError, match=r"training\.batch_size.*greater than or equal to 2"):
        config.load_config("smoke", ["training.batch_size=1"])


def test_literal_choice_lists_valid_options():
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", ["corpus.backend=google"])
    assert "apertium" in str(err.value) and "corpus.backend" in str(err.value)


def test_unknown_language_code_is_named():
    with pytest.raises(config.ConfigError, match="unknown language code 'xx'"):
        config.load_config("smoke", ["corpus.pool=[spa, xx]"])


def test_k_larger_than_pool_plus_english_is_rejected():
    with pytest.raises(config.ConfigError, match=r"corpus\.k=5 needs 4 pool languages"):
        config.load_config("smoke", ["corpus.pool=[spa, fra, ita]", "corpus.k=5"])


def test_overrides_keep_yaml_types_and_nest():
    # Given --set style overrides, When applied, Then numbers, lists and nested keys arrive typed
    cfg = config.load_config(
        "smoke", ["training.batch_size=16", "corpus.pool=[spa, fra, ita]", "training.loss.temperature=0.1"]
    )
    assert cfg.training.batch_size == 16
    assert cfg.corpus.pool == ["spa", "fra", "ita"]
    assert cfg.training.loss.temperature == pytest.approx(0.1)


def test_set_without_equals_is_an_error():
    with pytest.raises(config.ConfigError, match="expected key=value"):
        config.parse_set(["training.batch_size"])


def test_unknown_profile_lists_known_ones():
    with pytest.raises(config.ConfigError, match="known profiles: cpu, paper, smoke"):
        config.load_config("laptop")


def test_malformed_yaml_names_the_file(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\ncorpus: [unclosed\n")
    with pytest.raises(config.ConfigError, match="bad.yml: not valid YAML"):
        config.load_config(bad)


def test_section_hash_changes_only_with_its_section():
    base = config.load_config("smoke")
    changed = config.load_config("smoke", ["training.learning_rate=0.5"])
    assert base.section_hash("corpus") == changed.section_hash("corpus"), "corpus key must ignore training"
    assert base.section_hash("training") != changed.section_hash("training")


def test_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(tmp_path))
    assert config.data_dir() == tmp_path.resolve()


def test_mapping_parameters_are_replaced_whole_by_overrides():
    # Given the cpu profile's three sensitivity conditions
    assert len(load_config("cpu").corpus.sensitivity_conditions) == 3
    # When an override names one condition, or none, Then it replaces the mapping instead of extending it
    one = load_config("cpu", ["corpus.sensitivity_conditions={human: [reference]}"])
    assert one.corpus.sensitivity_conditions == {"human": ["reference"]}
    assert load_config("cpu", ["corpus.sensitivity_conditions={}"]).corpus.sensitivity_conditions == {}
    # And ordinary sections still merge key by key
    assert load_config("cpu", ["training.batch_size=8"]).training.seeds == [0, 1, 2]


@pytest.mark.parametrize(("override", "key", "says"), [
    ("name=/somewhere", "name", "is not a name"),
    ("name=../../etc", "name", "is not a name"),
    ("training.learning_rate=.inf", "training.learning_rate", "finite"),
    ("me5.learning_rate=.nan", "me5.learning_rate", "finite"),
    ("training.seeds=[18446744073709551616]", "training.seeds", "out of range"),
    ("me5.seeds=[-1]", "me5.seeds", "out of range"),
    ("corpus.seed=4294967296", "corpus.seed", "less than or equal"),
    ("training.sub_pool=[spa,xxx]", "training.sub_pool", "unknown language code 'xxx'"),
])
def test_bad_values_fail_at_load_naming_the_key(override, key, says):
    # Given a value that would fail only later (or write outside runs/), When the profile loads
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", [override])
    # Then one line names the --set that gave the value (it names the key) and what is wrong
    message = str(err.value)
    assert message.startswith(f"--set {override}: ") and says in message and "\n" not in message, message
    assert f": {key}:" not in message, "the --set names the key; it is not repeated"


@pytest.mark.parametrize(("sets", "says"), [
    (["corpus.pool=[spa,fra"], "not valid YAML"),
    (["training=5", "training.batch_size=3"], "training was set to a value"),
    (["training.batch_size=3", "training=5"], "training is a section"),
])
def test_contradictory_or_malformed_sets_are_one_line_errors(sets, says):
    with pytest.raises(config.ConfigError, match=says) as err:
        config.parse_set(sets)
    assert "\n" not in str(err.value) and str(err.value).startswith("--set "), err.value


def test_a_profile_that_is_not_utf8_names_the_file(tmp_path: Path):
    bad = tmp_path / "latin1.yml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(config.ConfigError, match=rf"{bad}: not UTF-8"):
        config.load_config(bad)


def test_a_file_named_like_a_profile_does_not_shadow_it(tmp_path: Path, monkeypatch):
    # Given a file called smoke in the current directory
    (tmp_path / "smoke").write_text("name: shadow\n")
    monkeypatch.chdir(tmp_path)
    # When --profile smoke is resolved, Then params/smoke.yml is used; a path needs a / or .yml
    assert config.resolve_profile("smoke") == (config.REPO_ROOT / "params" / "smoke.yml").resolve()
    assert config.resolve_profile("./smoke") == (tmp_path / "smoke").resolve()


def test_a_run_dir_that_is_a_file_is_refused(tmp_path: Path):
    cfg = config.load_config("smoke")
    (tmp_path / "file").write_text("x")
    with pytest.raises(config.ConfigError, match="is a file, not a folder"):
        config.run_dir_for(cfg, tmp_path / "file")
    with pytest.raises(config.ConfigError, match="is a file, so the folder cannot be created"):
        config.run_dir_for(cfg, tmp_path / "file" / "run")


def test_a_run_dir_holding_a_file_where_a_stage_writes_a_folder_is_refused(tmp_path: Path):
    (tmp_path / "corpus").write_text("not a folder")
    with pytest.raises(config.ConfigError, match="corpus is a file where the run writes a folder"):
        config.run_dir_for(config.load_config("smoke"), tmp_path)


def test_a_read_only_run_dir_is_refused(tmp_path: Path, monkeypatch):
    # Given a parent folder this user cannot write (simulated: as root the permission bits do not bite)
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    # When a run folder below it is asked for, Then it is refused before any work, naming the folder
    with pytest.raises(config.ConfigError, match=rf"{tmp_path} is read-only"):
        config.run_dir_for(config.load_config("smoke"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_length_grouping_with_grad_cache_names_both_settings():
    # Given length grouping (needs whole-batch steps) together with GradCache chunks, Then loading fails naming both
    with pytest.raises(config.ConfigError, match=r"training\.length_grouping.*training\.grad_cache_mini_batch"):
        config.load_config("smoke", ["training.length_grouping=true", "training.grad_cache_mini_batch=4"])


# --- Issue 29: no setting accepted and ignored; messages point at the source.


def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profile_repeating_a_key_names_the_key_and_both_lines(tmp_path: Path):
    # Given a profile that sets training.batch_size twice (YAML would silently keep the second)
    path = _profile(tmp_path, "name: mine\ntraining:\n  batch_size: 8\n  epochs: 1\n  batch_size: 16\n")
    # When it loads, Then one line names the file, the key and both lines
    with pytest.raises(config.ConfigError) as err:
        config.load_config(path)
    assert str(err.value) == f"{path}: key 'batch_size' appears twice, on lines 3 and 5; keep one", err.value
    # And a repeated section or a repeat inside a --set value is refused the same way
    with pytest.raises(config.ConfigError, match="key 'training' appears twice, on lines 2 and 4"):
        config.load_config(_profile(tmp_path, "name: mine\ntraining: {}\ncorpus: {}\ntraining: {}\n"))
    with pytest.raises(config.ConfigError, match=r"^--set 'training=\{epochs: 1, epochs: 2\}': key 'epochs'"):
        config.parse_set(["training={epochs: 1, epochs: 2}"])


def test_a_pool_language_declared_unseen_is_refused(tmp_path: Path):
    # Given spa, a training (pool) language, listed as unseen
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", ["evaluation.unseen=[spa]"])
    # Then the --set is named with the language and the rule, in one line
    assert str(err.value).startswith("--set evaluation.unseen=[spa]: spa in corpus.pool"), err.value
    # And in a profile file the file is named
    path = _profile(tmp_path, "name: mine\ncorpus: {pool: [spa, fra, cat]}\nevaluation: {unseen: [deu, fra]}\n")
    with pytest.raises(config.ConfigError, match=rf"^{path}: evaluation.unseen: fra in corpus.pool"):
        config.load_config(path)
    # But the default unseen list simply leaves out a language the pool trains on
    cfg = config.load_config(_profile(tmp_path, "name: mine\ncorpus: {pool: [spa, deu, cat]}\n"))
    assert cfg.evaluation.unseen == ["nld", "pol", "tur"], cfg.evaluation.unseen


@pytest.mark.parametrize(("sets", "says"), [
    (["training.evaluations_per_epoch=1", "training.eval_every=5"],
     "--set training.eval_every=5: training.eval_every is set but training.evaluations_per_epoch replaces it"),
    (["training.temperature_grid_steps=10"],
     "--set training.temperature_grid_steps=10: training.temperature_grid_steps is set but is read only with "
     "training.temperature_grid"),
    (["training.sub_pool=[spa]"], "--set training.sub_pool=[spa]: training.sub_pool is set but is read only by the "
     "sub-pool ablation"),
    (["training.temperature_grid=[0.05, 0.1]", "training.loss.temperature=0.02"],
     "--set training.loss.temperature=0.02: training.loss.temperature is set but training.temperature_grid chooses"),
    (["training.loss.symmetric=true"], "training.loss.symmetric is set but every pair is scored both ways"),
    (["corpus.opus_dataset=me/mine"], "corpus.opus_dataset is set but is read only with corpus.source=opus"),
    (["corpus.hf_model=facebook/nllb-200-distilled-600M"], "corpus.hf_model is set but is used only by the hf"),
])
def test_a_setting_this_combination_ignores_is_an_error(sets, says):
    # Given a setting that the rest of the profile would make the pipeline ignore
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", sets)
    # Then loading fails with one line saying which setting and why
    assert says in str(err.value) and "\n" not in str(err.value), err.value


def test_ignored_setting_checks_pass_for_the_combinations_that_read_them():
    # The same settings are accepted where they are read
    assert config.load_config("smoke", ["training.temperature_grid=[0.05, 0.1]",
                                        "training.temperature_grid_steps=10"]).training.temperature_grid_steps == 10
    assert config.load_config("smoke", ["training.loss.anchors=english", "training.loss.symmetric=true"])
    assert config.load_config("smoke", ["corpus.backend=ct2", "corpus.hf_model=x"]).corpus.hf_model == "x"
    assert config.load_config("smoke", ["training.ablations=[sub-pool]", "training.sub_pool=[spa, cat]"])


def test_a_bad_value_from_overrides_names_the_override_and_a_file_value_names_the_file():
    # Given the same bad value from the papermill overrides mapping and from the profile's own section check
    with pytest.raises(config.ConfigError, match=r"^overrides training.batch_size: Input should be greater"):
        config.load_config("smoke", {"training": {"batch_size": 0}})
    # Then a section check that a --set of that section takes part in names the file and that --set
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", ["corpus.pool=[spa]"])
    assert str(err.value).startswith("params/smoke.yml (with --set corpus.pool=[spa]): corpus.k=4 needs 3"), err.value


def test_a_pool_error_says_corpus_pool_once():
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", ["corpus.pool=[spa, xxq]"])
    assert str(err.value).startswith("--set corpus.pool=[spa, xxq]: unknown language code 'xxq'"), err.value


def test_a_profile_that_is_a_folder_says_so(tmp_path: Path):
    with pytest.raises(config.ConfigError) as err:
        config.load_config(str(tmp_path) + "/")
    assert f"{tmp_path} is a folder, not a profile file" in str(err.value), err.value
