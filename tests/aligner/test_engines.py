"""Engine choice: auto falls back to sphinx only when the Qwen3 weights cannot be had."""

import logging

import pytest

from qalign.aligner import engines
from qalign.aligner.engines import EngineOptions, create_aligner
from qalign.errors import MissingDependencyError, ModelLoadError, ModelNotFoundError, QalignError

MISSING = EngineOptions(model="qalign-tests/no-such-model")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_qwen3_never_falls_back():
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        create_aligner("qwen3", MISSING, "English")


def test_auto_falls_back_to_sphinx_for_english(caplog):
    pytest.importorskip("pocketsphinx", reason="the sphinx extra is not installed")
    with caplog.at_level(logging.INFO, logger="qalign"):
        aligner = create_aligner("auto", MISSING, "English")
    assert aligner.name == "sphinx"
    assert any("engine: sphinx" in r.getMessage() for r in caplog.records)


def test_auto_refuses_other_languages_without_weights():
    with pytest.raises(QalignError, match="only aligns English, and the language is German"):
        create_aligner("auto", MISSING, "German")


def test_auto_without_sphinx_names_both_problems(monkeypatch):
    def no_sphinx(progress=None):
        raise MissingDependencyError("pocketsphinx", "sphinx", "the offline English engine")

    monkeypatch.setattr(engines, "_sphinx", no_sphinx)
    with pytest.raises(MissingDependencyError, match=r"no-such-model.*qalign\[sphinx\]"):
        create_aligner("auto", MISSING, "English")


def test_auto_does_not_hide_a_broken_local_model(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError) as info:
        create_aligner("auto", EngineOptions(model=str(tmp_path)), "English")
    assert not isinstance(info.value, ModelNotFoundError)


def test_unknown_engine():
    with pytest.raises(QalignError, match="unknown engine"):
        create_aligner("whisper", EngineOptions())
