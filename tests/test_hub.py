"""One hub probe: every caller reads the offline flags the same way."""

from __future__ import annotations

import pytest

from mwalign import hub

FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


@pytest.fixture
def no_flags(monkeypatch):
    for flag in FLAGS:
        monkeypatch.delenv(flag, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://192.0.2.1:9")  # TEST-NET-1: never answers, so no real probe
    hub._endpoint_reachable.cache_clear()
    yield monkeypatch
    hub._endpoint_reachable.cache_clear()


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("value", ["1", "true", "ON", "yes"])
def test_any_offline_flag_with_a_true_value_means_offline(no_flags, flag, value):
    # Given one offline flag set to a value huggingface_hub reads as true
    no_flags.setenv(flag, value)
    # Then the probe names that flag without trying the network
    assert hub.offline_flag() == flag
    assert hub.unavailable_reason() == f"needs the Hugging Face hub but {flag} is set"


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_false_values_are_not_offline_flags(no_flags, value):
    # Given HF_HUB_OFFLINE set to a false value, Then it does not count as offline (the network decides)
    no_flags.setenv("HF_HUB_OFFLINE", value)
    assert hub.offline_flag() is None
    assert hub.unavailable_reason() == "needs the Hugging Face hub but 192.0.2.1 is unreachable"


def test_corpus_sources_backends_and_models_share_the_probe(no_flags, tmp_path):
    # Given only HF_DATASETS_OFFLINE (before, the model registry ignored it and the corpus read "false" as set)
    from mwalign.config import CorpusConfig
    from mwalign.corpus.backends.base import BackendError
    from mwalign.corpus.backends.hf import HFBackend
    from mwalign.corpus.sources import SourceError, load_roots
    from mwalign.models import registry

    no_flags.setenv("HF_DATASETS_OFFLINE", "1")
    # Then the OPUS source, the translation backend and the model registry all see the hub as unavailable
    with pytest.raises(SourceError, match="HF_DATASETS_OFFLINE is set"):
        load_roots(CorpusConfig(source="opus"))
    with pytest.raises(BackendError, match="corpus.hf_model=org/not-cached: needs the Hugging Face hub but HF_DATA"):
        HFBackend("org/not-cached").check_pair("eng", "spa")
    assert registry.hub_reachable() is False
