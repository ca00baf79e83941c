"""Opening the SQLite caches (translations, embeddings) the same safe way.

Every cache file is opened in WAL mode (readers never block the writer, so ``torchrun`` ranks share one
file), with a busy timeout, and stamped with its schema version in a ``meta`` table; a file of another
version, or one that is not SQLite, fails with one line naming the file and the fix. Ranks that open a
brand-new file at the same instant race on the switch to WAL, and SQLite then reports "database is
locked" at once instead of waiting on the busy timeout, so the open is retried a few times.

Paths are always file names, never URIs: a folder named ``run #1`` or ``?%`` is opened as itself
(:func:`connect_read_only` builds a percent-quoted ``file:`` URI from the path for its read-only flags).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

OPEN_ATTEMPTS = 6  # 50 ms doubling: 1.55 s in all
BUSY_TIMEOUT_S = 60.0
_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"


class SQLiteError(RuntimeError):
    """A cache file that is unreadable, corrupt or from another schema; the message names the file."""


def connect(path: str | Path, *, schema: str, version: int, what: str, fix: str,
            error: type[SQLiteError] = SQLiteError) -> sqlite3.Connection:
    """Open (or create) the SQLite file ``path`` with ``schema`` (idempotent DDL) at schema ``version``.

    ``what`` names the file's role in messages ("translation cache"), ``fix`` says what the user can do
    about a file of another version; failures raise ``error`` (a :class:`SQLiteError`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return _open(path, schema, version, what, fix, error)
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == OPEN_ATTEMPTS - 1:
                raise _open_failure(path, what, err, error) from None
            time.sleep(0.05 * 2**attempt)
        except sqlite3.DatabaseError as err:
            raise _open_failure(path, what, err, error) from None
    raise AssertionError("unreachable")


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """Open the existing SQLite file ``path`` for reading only, creating or changing no file beside it.

    ``immutable=1`` when no write-ahead log is pending (then the main file holds every committed row, and
    SQLite creates no ``-wal``/``-shm`` files for a reader); ``mode=ro`` when a ``-wal`` file exists, so rows a
    writer has not checkpointed yet are read too. Raises ``sqlite3.Error`` when the file cannot be read.
    """
    path = Path(path).resolve()
    flags = "mode=ro" if path.with_name(path.name + "-wal").exists() else "immutable=1"
    return sqlite3.connect(f"{path.as_uri()}?{flags}", uri=True)  # as_uri quotes '#', '?', '%', spaces, UTF-8


def _open_failure(path: Path, what: str, err: sqlite3.Error, error: type[SQLiteError]) -> SQLiteError:
    """The error for a file SQLite cannot open: a read-only file or folder says so (deleting would not help)."""
    read_only = next((p for p in (path, path.parent) if p.exists() and not os.access(p, os.W_OK)), None)
    if read_only is not None:
        return error(f"{path}: {what} cannot be opened for writing: {read_only} is read-only ({err}); "
                     "make it writable, or copy the run to a writable --run-dir")
    return error(f"{path}: {what} is unreadable ({err}); move it aside or delete it to rebuild")


def _open(path: Path, schema: str, version: int, what: str, fix: str, error: type[SQLiteError]) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_META + schema)
        with db:  # OR IGNORE: another rank may stamp a new file first
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(version),))
        found = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        if found != str(version):
            raise error(f"{path}: {what} schema v{found}, this mwalign writes v{version}; {fix}")
    except BaseException:
        db.close()
        raise
    return db
