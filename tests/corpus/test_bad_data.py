"""The corpus stage on damaged or missing evaluation data, and killed mid-build: errors before work, same bytes after."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mwalign import cli
from mwalign.corpus import run_corpus_stage
from mwalign.corpus.backends import apertium
from mwalign.corpus.build import _content_hash, completed_manifest
from mwalign.reporting.provenance import provenance

REPO = Path(__file__).resolve().parents[2]
ROW_FILES = ("translations", "multiway", "bilingual", "dev")
needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apt-get install apertium")
NTREX = Path("ntrex128") / "NTREX-128"


def _mirror(root: Path, files: dict[str, bytes]) -> Path:
    """A data dir holding just ``files`` (relative path -> bytes), in the mirror's layout."""
    for rel, payload in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(payload)
    return root


@pytest.fixture
def no_translation(monkeypatch):
    monkeypatch.setattr(apertium.ApertiumBackend, "_translate", lambda *a: pytest.fail("the backend was called"))


def _corpus_cli(run_dir: Path) -> int:
    return cli.main(["corpus", "--set", "corpus.pool=[spa, epo]", "--set", "corpus.k=2", "--run-dir", str(run_dir)])


def _one_line(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("mwalign: error: ") and err.count("\n") == 1, err
    return err


@needs_apertium
@pytest.mark.parametrize(("files", "message"), [
    ({NTREX / "newstest2019-src.eng.txt": b"One.\nTwo.\nThree.\n", NTREX / "newstest2019-ref.spa.txt": b"Uno.\nDos.\n"},
     r"newstest2019-ref\.spa\.txt: 2 lines but the English source \S+newstest2019-src\.eng\.txt has 3"),
    ({NTREX / "newstest2019-src.eng.txt": b"One.\nTwo.\n", NTREX / "newstest2019-ref.spa.txt": b"Uno.\nD\xf3s.\n"},
     r"newstest2019-ref\.spa\.txt: line 2 is not UTF-8"),
    ({Path("tatoeba/tatoeba.spa-eng.eng"): b"The cat.\nI am hungry.\nWhere is the st\xe4tion?\n"},
     r"tatoeba\.spa-eng\.eng: line 3 is not UTF-8"),
], ids=["ntrex-truncated", "ntrex-not-utf8", "tatoeba-not-utf8"])
def test_damaged_data_file_is_named_before_translating(tmp_path, monkeypatch, capsys, no_translation, files, message):
    # Given a data mirror with a truncated NTREX reference or a non-UTF-8 line
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(_mirror(tmp_path / "data", files)))
    # When the corpus stage runs
    code = _corpus_cli(tmp_path / "run")
    # Then one line names the file (and line), nothing is translated and the run dir is left as it was
    assert re.search(message, _one_line(capsys, code))
    assert not (tmp_path / "run").exists(), "no run dir for a refused corpus"


@needs_apertium
def test_missing_exclusion_when_allowed_is_recorded_in_manifest_hash_and_book(make_config, tmp_path, monkeypatch):
    # Given no data dir and the explicit flag
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(tmp_path / "no-data"))
    cfg = make_config(n_roots=24, pool=["spa", "epo"], k=2, allow_missing_exclusion=True)
    # When the corpus is built
    manifest = run_corpus_stage(cfg, tmp_path / "run", progress=False)
    # Then the manifest says the exclusion is missing, the content hash differs from the same files' plain hash,
    assert manifest["exclusion"]["evaluation_sets"] == "missing"
    assert manifest["content_hash"] == _content_hash(manifest["files"], manifest["exclusion"])
    assert manifest["content_hash"] != _content_hash(manifest["files"]), "the missing exclusion is in the hash"
    # And the book's provenance line says so
    assert "without** the evaluation-set exclusion" in provenance(cfg, tmp_path / "run")


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from mwalign.corpus import build
    from tests.corpus.conftest import small_config

    point, calls = sys.argv[2], []
    real = getattr(build, point)

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill -9: no cleanup, no finally
        return real(*args, **kwargs)

    setattr(build, point, dying)
    build.run_corpus_stage(small_config(n_roots=24, pool=["spa", "epo"], k=2), Path(sys.argv[1]), progress=False)
""")


@needs_apertium
@pytest.mark.parametrize(("point", "call"), [("translate_cached", 2), ("write_parquet_atomic", 3)],
                         ids=["mid-translation", "mid-write"])
def test_corpus_killed_mid_build_resumes_to_the_same_bytes(make_config, tmp_path, point, call):
    # Given an uninterrupted build
    cfg = make_config(n_roots=24, pool=["spa", "epo"], k=2)
    clean = run_corpus_stage(cfg, tmp_path / "clean", progress=False)
    # When another build is killed with SIGKILL while translating the second language, or after two of four files
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", _KILLER, str(tmp_path / "run"), point, str(call)],
                            cwd=REPO, env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "run" / "corpus" / "manifest.json").exists(), "the kill came before the build finished"
    # And it is rerun
    resumed = run_corpus_stage(cfg, tmp_path / "run", progress=False)
    # Then every table is byte-identical to the uninterrupted build's
    assert resumed["content_hash"] == clean["content_hash"]
    for name in ROW_FILES:
        assert (tmp_path / "run" / "corpus" / f"{name}.parquet").read_bytes() == \
            (tmp_path / "clean" / "corpus" / f"{name}.parquet").read_bytes(), f"{name}.parquet differs after resume"
    assert not list((tmp_path / "run" / "corpus").glob(".*.tmp")), "no temp file survives the resume"


_BUILDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mwalign.corpus import build
    from tests.corpus.conftest import small_config

    build.run_corpus_stage(small_config(n_roots=24, pool=["spa", "epo"], k=2), Path(sys.argv[1]), progress=False)
""")


@needs_apertium
def test_two_concurrent_corpus_builds_on_one_run_dir_leave_a_correct_corpus(make_config, tmp_path):
    # Given two processes building the same corpus into one run dir (one cache) at the same time
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    builders = [subprocess.Popen([sys.executable, "-c", _BUILDER, str(tmp_path / "run")], cwd=REPO, env=env,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [b.communicate(timeout=600)[1] for b in builders]
    # Then both finish, and the corpus they leave is complete and equal to a build made alone
    assert [b.returncode for b in builders] == [0, 0], [e[-1500:] for e in errors]
    alone = run_corpus_stage(make_config(n_roots=24, pool=["spa", "epo"], k=2), tmp_path / "alone", progress=False)
    manifest = json.loads((tmp_path / "run" / "corpus" / "manifest.json").read_text())
    assert manifest["content_hash"] == alone["content_hash"], "concurrent builds must leave the same corpus"
    assert completed_manifest(tmp_path / "run" / "corpus", manifest["fingerprint"]) is not None, "files match it"
