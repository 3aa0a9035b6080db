"""Finding corpus items: MFA folders, TextGrid utterances, JSONL and CSV manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qalign.corpus.layouts import discover
from qalign.errors import QalignError


def test_folder_layout_keys_speakers_and_problems(tmp_path: Path, make_wav) -> None:
    root = tmp_path / "c"
    make_wav(root / "anna" / "u1.wav", 1.5)
    (root / "anna" / "u1.lab").write_text("hello")
    make_wav(root / "anna" / "u2.flac.wav", 0.5)  # odd name, still audio
    (root / "anna" / "u2.flac.txt").write_text("x")
    make_wav(root / "top.wav", 2.0)
    (root / "top.TextGrid").write_text("utterances")
    make_wav(root / "bare.wav", 1.0)  # no transcript
    (root / "orphan.lab").write_text("no audio")
    (root / "README.txt").write_text("not a transcript of anything")
    make_wav(root / "twice.wav", 1.0)
    (root / "twice.mp3").write_bytes(b"x")
    (root / "twice.lab").write_text("twice")
    make_wav(root / "out" / "ignored.wav", 1.0)  # the output folder is not searched
    (root / "out" / "ignored.lab").write_text("x")
    items, failures = discover(root, exclude=root / "out")
    by_key = {i.key: i for i in items}
    assert sorted(by_key) == ["anna/u1", "anna/u2.flac", "top", "twice"]
    assert by_key["anna/u1"].speaker == "anna" and by_key["top"].speaker is None
    assert by_key["anna/u1"].size_hint == pytest.approx(1.5, abs=0.01)
    assert by_key["anna/u1"].text_path.endswith("u1.lab") and by_key["top"].utterances_path
    problems = {f.key: f.error for f in failures}
    assert set(problems) == {"bare", "orphan", "twice.wav"}
    assert "no transcript" in problems["bare"] and "no audio" in problems["orphan"]
    assert all(f.stage == "discover" for f in failures)


def test_jsonl_manifest(tmp_path: Path, make_wav) -> None:
    make_wav(tmp_path / "a" / "x.wav", 3.0)
    rows = [
        {
            "audio_filepath": "a/x.wav",
            "text": "one",
            "offset": 0.5,
            "duration": 1.0,
            "language": "de",
        },
        {"audio": "a/x.wav", "text": "two", "offset": 2.0},
        {"audio": str(tmp_path / "a" / "x.wav"), "text": "three", "id": "custom/name"},
        {"audio": "a/x.wav", "offset": "soon", "text": "bad"},
        {"text": "no audio"},
        {"audio": "a/x.wav", "text": "escape", "id": "../up"},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n[1, 2]\n")
    items, failures = discover(manifest)
    keys = [i.key for i in items]
    assert keys == ["a/x_00000500", "a/x_00002000", "custom/name"]
    assert items[0].language == "de" and items[0].size_hint == pytest.approx(1.0)
    assert items[1].size_hint == pytest.approx(1.0, abs=0.01)  # to the end: 3 - 2
    errors = sorted(f.error for f in failures)
    assert len(failures) == 4
    assert any("offset 'soon' is not a number" in e for e in errors)
    assert any("no audio" in e for e in errors) and any("not a JSON object" in e for e in errors)
    assert any("leaves OUTDIR" in e for e in errors)


def test_csv_manifest_with_text_path(tmp_path: Path, make_wav) -> None:
    make_wav(tmp_path / "y.wav", 1.0)
    (tmp_path / "y.txt").write_text("words here")
    manifest = tmp_path / "m.csv"
    manifest.write_text("audio,text_path,speaker\ny.wav,y.txt,bob\n")
    (item,), failures = discover(manifest)
    assert not failures
    assert (item.key, item.speaker, item.text) == ("y", "bob", None)
    assert item.text_path == str((tmp_path / "y.txt").resolve())


def test_not_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(QalignError, match="no such file or folder"):
        discover(tmp_path / "missing")
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(QalignError, match="not a corpus folder or a manifest"):
        discover(tmp_path / "notes.md")
