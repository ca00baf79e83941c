"""The corpus stage contract: files, schema, budgets, determinism, reuse and fail-fast errors."""

from __future__ import annotations

import json
import math
import shutil

import pyarrow.parquet as pq
import pytest

from mwalign.corpus import run_corpus_stage
from mwalign.corpus.backends.base import BackendError

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apt-get install apertium")


@needs_apertium
def test_corpus_files_follow_the_contract_schema(built_corpus):
    # Given a real build of 40 roots into spa/cat/epo
    cfg, run_dir, manifest = built_corpus
    out = run_dir / "corpus"
    # When the four tables are read back
    wide = pq.read_table(out / "translations.parquet")
    rows = {name: pq.read_table(out / f"{name}.parquet").to_pylist() for name in ("multiway", "bilingual", "dev")}
    # Then the wide table has root_id, eng and one nullable column per pool language
    assert wide.column_names == ["root_id", "eng", "spa", "cat", "epo"], "wide table columns follow CONTRACTS.md"
    assert all(str(t) == "string" for t in wide.schema.types), "every wide column is a string column"
    for name, table in rows.items():
        for row in table:
            assert row["languages"][0] == "eng", f"{name}: English comes first"
            assert len(row["languages"]) == len(row["sentences"]), f"{name}: sentences align with languages"
            assert len(set(row["languages"])) == len(row["languages"]), f"{name}: no language twice in a row"
    assert all(len(r["languages"]) == 2 for r in rows["bilingual"]), "bilingual rows hold exactly eng + X"
    assert all(len(r["languages"]) == cfg.corpus.k for r in rows["multiway"]), "multi-way rows hold k languages"
    # And the manifest names pool, seen languages and a content hash
    assert manifest["pool"] == ["spa", "cat", "epo"] and manifest["seen_languages"][0] == "eng"
    assert json.loads((out / "manifest.json").read_text())["content_hash"] == manifest["content_hash"]


@needs_apertium
def test_dev_roots_never_appear_in_training_rows(built_corpus):
    # Given the built corpus
    _, run_dir, manifest = built_corpus
    out = run_dir / "corpus"
    dev = set(pq.read_table(out / "dev.parquet").column("root_id").to_pylist())
    train = set(pq.read_table(out / "multiway.parquet").column("root_id").to_pylist())
    train |= set(pq.read_table(out / "bilingual.parquet").column("root_id").to_pylist())
    # Then held-out roots are disjoint from training roots, and dev is about dev_fraction of the roots
    assert dev and not dev & train, "dev roots must never be trained on"
    assert manifest["counts"]["rows"]["dev"] == round(0.1 * manifest["counts"]["roots_with_translation"])


@needs_apertium
def test_equal_pairs_budget_gives_n_over_comb_k_2_multiway_rows(built_corpus):
    # Given k=3 and the equal_pairs budget
    cfg, _, manifest = built_corpus
    rows = manifest["counts"]["rows"]
    # Then N bilingual rows face N // C(k, 2) multi-way rows, i.e. about the same number of positive pairs
    assert rows["multiway"] == rows["bilingual"] // math.comb(cfg.corpus.k, 2), "equal_pairs row budget"
    pairs = manifest["counts"]["positive_pairs"]
    assert abs(pairs["multiway"] - pairs["bilingual"]) < math.comb(cfg.corpus.k, 2), "positive pairs match"


@needs_apertium
def test_rebuild_with_same_parameters_is_byte_identical(built_corpus, tmp_path):
    # Given the same parameters (and the same shared cache) in a fresh run directory
    cfg, run_dir, manifest = built_corpus
    # When the corpus is built again
    again = run_corpus_stage(cfg, tmp_path, progress=False)
    # Then every file has the same bytes, and nothing had to be translated again
    assert again["content_hash"] == manifest["content_hash"], "same parameters must give a byte-identical corpus"
    for name in ("translations", "multiway", "bilingual", "dev"):
        assert (tmp_path / "corpus" / f"{name}.parquet").read_bytes() == (run_dir / "corpus" / f"{name}.parquet").read_bytes()
    assert again["run"]["translated"] == 0 and again["run"]["cache_hits"] == 3 * 40, "the shared cache served all"


@needs_apertium
def test_other_seed_changes_the_corpus(built_corpus, make_config, tmp_path):
    # Given the same cache but another seed
    cfg, _, manifest = built_corpus
    other = make_config(seed=1, cache_path=cfg.corpus.cache_path)
    # Then the content hash differs (the seed is really used)
    assert run_corpus_stage(other, tmp_path, progress=False)["content_hash"] != manifest["content_hash"]


@needs_apertium
def test_completed_build_is_reused_without_translating(built_corpus, monkeypatch):
    # Given a complete build
    cfg, run_dir, manifest = built_corpus
    # When the stage runs again with a backend that would fail if called
    from mwalign.corpus.backends import apertium

    monkeypatch.setattr(apertium.ApertiumBackend, "_translate", lambda *a: pytest.fail("backend was called"))
    again = run_corpus_stage(cfg, run_dir, progress=False)
    # Then the stored manifest comes back untouched
    assert again == manifest, "a complete build with the same fingerprint is reused as is"


@needs_apertium
def test_tampered_output_triggers_a_rebuild(built_corpus, tmp_path):
    # Given a complete build whose dev file was modified afterwards
    cfg, run_dir, manifest = built_corpus
    shutil.copytree(run_dir / "corpus", tmp_path / "corpus")
    (tmp_path / "corpus" / "dev.parquet").write_bytes(b"not parquet")
    # When the stage runs again, Then it rebuilds and restores the same bytes
    again = run_corpus_stage(cfg, tmp_path, progress=False)
    assert again["content_hash"] == manifest["content_hash"], "a damaged file is rebuilt, not trusted"
    assert pq.read_table(tmp_path / "corpus" / "dev.parquet").num_rows == manifest["counts"]["rows"]["dev"]


@needs_apertium
def test_language_pair_missing_from_backend_fails_before_any_output(make_config, tmp_path):
    # Given German in the pool, which the Apertium backend cannot produce
    cfg = make_config(pool=["spa", "deu"], k=2)
    # When the stage runs, Then it names corpus.pool and writes nothing
    with pytest.raises(BackendError, match=r"corpus\.pool.*eng->deu|corpus\.pool.*deu"):
        run_corpus_stage(cfg, tmp_path, progress=False)
    assert not (tmp_path / "corpus").exists(), "no half-written artifact"


def test_unknown_language_code_is_rejected_at_load(make_config):
    # Given a pool with a made-up code, Then validation names corpus.pool
    with pytest.raises(ValueError, match="corpus.pool: unknown language code 'xxq'"):
        make_config(pool=["spa", "xxq"])


@needs_apertium
def test_cold_builds_from_fresh_caches_are_byte_identical(make_config, tmp_path):
    # Given two run directories, each with its own empty cache
    cfg = make_config(n_roots=24, pool=["spa", "epo"], k=2)
    first = run_corpus_stage(cfg, tmp_path / "a", progress=False)
    second = run_corpus_stage(cfg, tmp_path / "b", progress=False)
    # Then both cold builds translate the same batches and produce the same bytes
    assert first["run"]["translated"] == second["run"]["translated"] == 48
    assert first["content_hash"] == second["content_hash"], "cold builds must be deterministic"


@needs_apertium
def test_seed_zero_redraw_gives_the_stage_rows_back_and_other_seeds_redraw_them(built_corpus):
    from mwalign.corpus.build import redraw_rows

    # Given the built corpus (equal pairs, k=3) and its files
    _, run_dir, _ = built_corpus
    out = run_dir / "corpus"
    files = {name: [(r["root_id"], r["languages"], r["sentences"]) for r in pq.read_table(out / f"{name}.parquet")
                    .to_pylist()] for name in ("multiway", "bilingual")}
    dev = set(pq.read_table(out / "dev.parquet").column("root_id").to_pylist())
    translations = {r["root_id"]: r for r in pq.read_table(out / "translations.parquet").to_pylist()}
    # When seed 0 and seed 1 are drawn from the folder
    zero, one = redraw_rows(out, 0), redraw_rows(out, 1)
    # Then seed 0 is exactly the corpus stage's rows (no model of seed 0 changes)
    assert zero == (files["multiway"], files["bilingual"])
    # And seed 1 holds the same budget but other roots in its multi-way rows and other X in its bilingual rows
    multiway, bilingual = one
    assert len(multiway) == len(files["multiway"]) and len(bilingual) == len(files["bilingual"])
    assert {r[0] for r in multiway} != {r[0] for r in files["multiway"]}, "the multi-way roots are redrawn"
    assert [r[1] for r in bilingual] != [r[1] for r in files["bilingual"]], "the X of the bilingual rows is redrawn"
    assert {r[0] for r in bilingual} == {r[0] for r in files["bilingual"]}, "every training root stays in bilingual"
    # And nothing new is translated or held out: every sentence is the stage's translation, no dev root enters
    for root, languages, sentences in multiway + bilingual:
        assert root not in dev
        assert all(translations[root][lang] == text for lang, text in zip(languages, sentences))


@needs_apertium
def test_training_seeds_take_their_own_draw_only_when_redraw_corpus_is_set(built_corpus):
    from mwalign.training.data import read_rows
    from mwalign.training.stage import CorpusDraws

    cfg, run_dir, _ = built_corpus
    out = run_dir / "corpus"
    files = read_rows(out / "multiway.parquet"), read_rows(out / "bilingual.parquet")
    fixed = CorpusDraws(cfg, out, *files)
    redrawn = CorpusDraws(cfg.model_copy(update={"training": cfg.training.model_copy(update={"redraw_corpus": True})}),
                          out, *files)
    assert fixed.rows(1) == files and redrawn.rows(0) == files, "seed 0, or no redraw: the corpus stage's rows"
    multiway, bilingual = redrawn.rows(1)
    assert multiway.root_ids != files[0].root_ids and bilingual.languages != files[1].languages
    assert multiway.pair_count == files[0].pair_count, "a redraw keeps the pair budget"
    assert "(draw 1)" in multiway.source
