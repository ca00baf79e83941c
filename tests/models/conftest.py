"""Fixtures for the model tests: a session models dir holding one real prepared tiny-xlmr.

``prepared_tiny_xlmr`` is the reusable piece for other test folders (lift it to
tests/conftest.py): a real sentence-transformers folder, 64-dim, XLM-R vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mwalign import models


@pytest.fixture(scope="session")
def session_models_dir(tmp_path_factory) -> Path:
    """An empty models dir for the whole session (never the user's .cache/models)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def prepared_tiny_xlmr(session_models_dir) -> Path:
    """tiny-xlmr prepared once per session (~10 s on 2 cores)."""
    return models.prepare("tiny-xlmr", session_models_dir)


@pytest.fixture(scope="session")
def prepared_me5_small(session_models_dir) -> Path:
    """me5-small dequantised once per session (~20-30 s: slow tests only)."""
    return models.prepare("me5-small", session_models_dir)


@pytest.fixture
def models_env(session_models_dir, monkeypatch) -> Path:
    """Point MWALIGN_MODELS_DIR at the session models dir for load-by-name tests."""
    monkeypatch.setenv("MWALIGN_MODELS_DIR", str(session_models_dir))
    return session_models_dir
