"""Both SQLite caches open through mwalign.sqlite: a foreign or broken file fails in one line naming it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from mwalign.corpus import cache as translation_cache
from mwalign.evaluation import embedding_cache
from mwalign.sqlite import SQLiteError

CACHES = {
    "translations": (translation_cache.TranslationCache, translation_cache.SCHEMA_VERSION, "translation cache"),
    "embeddings": (embedding_cache.EmbeddingCache, embedding_cache.SCHEMA_VERSION, "embedding cache"),
}


@pytest.mark.parametrize("kind", CACHES)
def test_file_of_another_schema_version_is_refused_naming_both_versions(kind, tmp_path):
    # Given a cache file stamped by a future schema
    cls, version, what = CACHES[kind]
    path = tmp_path / f"{kind}.sqlite"
    cls(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    # When it is opened, Then one line names the file, its role, both versions and a fix
    with pytest.raises(SQLiteError) as info:
        cls(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {what} schema v99, this mwalign writes v{version}; "), message
    assert "\n" not in message and "delete" in message


@pytest.mark.parametrize("kind", CACHES)
def test_file_that_is_not_sqlite_is_refused_in_one_line_and_kept(kind, tmp_path):
    # Given a file that is not a SQLite database
    cls, _, what = CACHES[kind]
    path = tmp_path / f"{kind}.sqlite"
    path.write_bytes(b"not a database" * 100)
    # When it is opened, Then the error is our one line (not a bare sqlite3.DatabaseError), and the file stays
    with pytest.raises(SQLiteError, match=f"{kind}.sqlite: {what} is unreadable") as info:
        cls(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes().startswith(b"not a database"), "the broken file is left for inspection"


@pytest.mark.parametrize("kind", CACHES)
def test_new_file_is_in_wal_mode_with_its_schema_stamp(kind, tmp_path):
    # Given a brand-new cache file, Then readers never block the writer and the version is recorded once
    cls, version, _ = CACHES[kind]
    cls(tmp_path / "c.sqlite").close()
    db = sqlite3.connect(tmp_path / "c.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchall() == [(str(version),)]
    db.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; see the test below")
def test_cache_in_a_read_only_folder_says_read_only(tmp_path):
    # Given a finished translation cache whose folder was then made read-only
    folder = tmp_path / "corpus"
    translation_cache.TranslationCache(folder / "cache.sqlite").close()
    folder.chmod(0o555)
    try:
        # When it is opened, Then the one line says the folder is read-only, not "delete it"
        with pytest.raises(SQLiteError, match=rf"{folder}\S* is read-only") as info:
            translation_cache.TranslationCache(folder / "cache.sqlite")
        assert "delete" not in str(info.value)
    finally:
        folder.chmod(0o755)


def test_read_only_failure_is_reported_as_read_only(tmp_path, monkeypatch):
    # Given SQLite refusing to write (as in a read-only folder, which root cannot produce with chmod)
    folder = tmp_path / "corpus"
    folder.mkdir()

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder)
    # When the cache is opened, Then the message names the read-only folder and does not advise deleting
    with pytest.raises(SQLiteError, match=rf"translation cache cannot be opened for writing: {folder} is read-only") as info:
        translation_cache.TranslationCache(folder / "cache.sqlite")
    assert "delete" not in str(info.value)
