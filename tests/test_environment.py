"""The install files agree: environment.yml mirrors requirements.txt, and every pin is exact."""

from __future__ import annotations

import re

import yaml

from mwalign.config import REPO_ROOT


def _pins(path):
    pins = {}
    for line in (REPO_ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{path}: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def test_requirements_pin_everything_exactly():
    pins = _pins("requirements.txt")
    assert pins["torch"] == "2.13.0", "torch must stay on the local CPU wheel"
    assert pins["jupyter-book"].startswith("1."), "jupyter-book 2.x cannot build offline"


def test_environment_yml_mirrors_requirements():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.txt" in pip, "environment.yml must install requirements.txt"
    pins = _pins("requirements.txt")
    for entry in pip:
        if entry.startswith("-r"):
            continue
        name, _, version = entry.partition("==")
        assert pins.get(name.lower()) == version, f"environment.yml pins {entry} but requirements.txt has {pins.get(name.lower())}"


def test_installed_versions_match_the_pins():
    from importlib import metadata

    for name, version in _pins("requirements.txt").items():
        installed = metadata.version(name)
        assert re.sub(r"\+.*", "", installed) == version, f"{name}: installed {installed}, pinned {version}"
