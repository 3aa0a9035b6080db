"""``qalign batch`` end to end with real engines (offline sphinx, the tiny Qwen3
checkpoint), on corpora built from the shared speech fixtures; kill -9 and rerun."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qalign import formats
from qalign.cli.main import main

pytestmark = pytest.mark.slow

LIBRIVOX = "speech/pocketsphinx_librivox/sense_and_sensibility_01_austen_64kb-{}"


def _needs_sphinx() -> None:
    pytest.importorskip("pocketsphinx", reason="the offline engine needs qalign[sphinx]")


def _corpus(fixtures: Path, root: Path, copies: int = 1) -> Path:
    """spk1/, spk2/ with .lab/.txt; a two-speaker utterance TextGrid; a broken and an empty file."""
    ids = ["0870", "0880", "0890", "0920", "0930"]
    for n in range(copies):
        for k, ident in enumerate(ids):
            src = fixtures / LIBRIVOX.format(ident)
            speaker = root / f"spk{1 + k % 2}"
            speaker.mkdir(parents=True, exist_ok=True)
            stem = f"utt{ident}" + (f"_{n}" if n else "")
            shutil.copy(f"{src}.wav", speaker / f"{stem}.wav")
            shutil.copy(f"{src}.txt", speaker / (f"{stem}.lab" if k % 2 == 0 else f"{stem}.txt"))
    mfa = fixtures / "speech" / "mfa"
    shutil.copy(mfa / "michaelandsickmichael.wav", root / "meeting.wav")
    shutil.copy(mfa / "michaelandsickmichael_short_tg.TextGrid", root / "meeting.TextGrid")
    (root / "spk2" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    (root / "spk2" / "broken.lab").write_text("this audio is broken\n")
    shutil.copy(fixtures / (LIBRIVOX.format("0870") + ".wav"), root / "empty.wav")
    (root / "empty.lab").write_text("   \n")
    return root


def _expected(corpus: Path, suffixes: tuple[str, ...]) -> set[str]:
    names = set()
    for lab in [*corpus.rglob("*.lab"), *corpus.rglob("*.txt")]:
        rel = lab.relative_to(corpus).with_suffix("").as_posix()
        if rel in ("spk2/broken", "empty"):
            continue
        names.update(rel + s for s in suffixes)
    return names


def _check_outputs(out: Path, corpus: Path) -> None:
    """Every output exists once and complete; no temporary file is left."""
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert not [f for f in files if f.endswith(".part")], files
    produced = {f for f in files if not f.startswith(".qalign/") and not f.endswith(".csv")}
    expected = _expected(corpus, (".TextGrid", ".json"))
    expected |= {"meeting.TextGrid", "meeting.michael.json", "meeting.sickmichael.json"}
    assert produced == expected
    for name in produced:
        alignment = formats.load(out / name) if name.endswith(".json") else None
        if alignment is not None:
            assert alignment.units, name
        else:
            import textgrid

            grid = textgrid.TextGrid.fromFile(str(out / name))  # parses: complete
            assert any(t.name.endswith("words") and [i for i in t if i.mark] for t in grid), name
    with open(out / "failures.csv", newline="") as f:
        failed = {r["item"]: r for r in csv.DictReader(f)}
    assert set(failed) == {"spk2/broken", "empty"}
    assert failed["spk2/broken"]["stage"] == "decode-audio"


def test_sphinx_corpus_kill_minus_9_then_rerun(fixtures_dir: Path, tmp_path: Path) -> None:
    _needs_sphinx()
    corpus = _corpus(fixtures_dir, tmp_path / "corpus", copies=4)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "qalign.cli",
        "batch",
        str(corpus),
        "-o",
        str(out),
        "--engine",
        "sphinx",
        "-f",
        "textgrid",
        "-f",
        "json",
        "--bucket-items",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    markers = out / ".qalign" / "done"
    while time.monotonic() < deadline and proc.poll() is None:
        if markers.is_dir() and sum(1 for _ in markers.rglob("*.json")) >= 3:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail(
            f"the run ended before it could be killed: {proc.stderr.read().decode()[-500:]}"
        )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = sum(1 for _ in markers.rglob("*.json"))
    total = len(_expected(corpus, ("",))) + 1
    assert 3 <= finished_before < total  # killed part-way
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr  # the broken and empty files failed
    summary = rerun.stderr.strip().splitlines()
    line = next(x for x in summary if x.startswith("qalign: batch:"))
    assert f"{finished_before} skipped" in line and "2 failed" in line
    assert f"{total - finished_before} done" in line
    _check_outputs(out, corpus)
    # a third run has nothing left to do
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert f"0 done, {total} skipped, 2 failed" in third.stderr


def test_tiny_qwen3_checkpoint_corpus_and_manifest(
    fixtures_dir: Path, parity_dir: Path, tmp_path: Path, capsys
) -> None:
    pytest.importorskip("torch")
    corpus = _corpus(fixtures_dir, tmp_path / "corpus")
    out = tmp_path / "out"
    model = str(parity_dir / "fa-tiny")
    rc = main(["batch", str(corpus), "-o", str(out), "--engine", "qwen3", "--model", model, "-q"])
    assert rc == 1
    _check_outputs(out, corpus)
    assert "3 done" not in capsys.readouterr().err  # 6 items, not 3
    with open(out / "alignment_report.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and all(r["engine"] == "qwen3" for r in rows)
    # a manifest over the same audio, with offsets, in a CSV
    manifest = tmp_path / "list.csv"
    src = fixtures_dir / (LIBRIVOX.format("0870") + ".wav")
    text = (fixtures_dir / (LIBRIVOX.format("0870") + ".txt")).read_text().split()
    manifest.write_text(
        "audio,text,offset,duration,language\n"
        f"{src},{' '.join(text[:6])},0,3.0,en\n"
        f"{src},{' '.join(text[6:])},3.0,,en\n"
    )
    rc = main(
        [
            "batch",
            str(manifest),
            "-o",
            str(tmp_path / "m"),
            "--engine",
            "qwen3",
            "--model",
            model,
            "-f",
            "json",
            "-q",
        ]
    )
    assert rc == 0
    outputs = sorted((tmp_path / "m").glob("*.json"))
    assert len(outputs) == 2
    second = formats.load(outputs[1])
    assert second.units[0].start >= 3.0 - 1e-6  # in the source audio's timeline
    assert json.loads(outputs[0].read_text())["source"]["engine"] == "qwen3"


@pytest.mark.parametrize("engine", ["sphinx", "qwen3"])
def test_ctrl_c_exits_130_keeps_what_was_done_and_a_rerun_finishes(
    engine: str, fixtures_dir: Path, parity_dir: Path, tmp_path: Path
) -> None:
    # qwen3 runs a bucket's short items side by side (qalign.corpus.batching): Ctrl-C must
    # still end the run promptly, with nothing half-written.
    if engine == "sphinx":
        _needs_sphinx()
        extra = ["--bucket-items", "1"]
    else:
        pytest.importorskip("torch")
        extra = ["--model", str(parity_dir / "fa-tiny"), "--bucket-items", "4"]
    corpus = _corpus(fixtures_dir, tmp_path / "corpus", copies=3)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "qalign.cli", "batch", str(corpus), "-o", str(out)]
    cmd += ["--engine", engine, "-f", "textgrid", "-f", "json", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # SIGINT back to its default in the child: a test run started in the background of a
    # shell inherits SIGINT ignored, and Python then installs no Ctrl-C handler.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    markers = out / ".qalign" / "done"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if markers.is_dir() and any(markers.rglob("*.json")):
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail(f"the run ended before Ctrl-C: {proc.stderr.read().decode()[-500:]}")
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()[-1000:]
    lines = err.decode().strip().splitlines()
    assert lines[-1] == "qalign: interrupted"
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    assert (out / "failures.csv").is_file() and (out / "alignment_report.csv").is_file()
    finished = sum(1 for _ in markers.rglob("*.json"))
    # The summary of what was done comes before: every finished item counted as done,
    # and the 18 items (15 files, the meeting, a broken and an empty one) all accounted for.
    summary = re.fullmatch(
        r"qalign: batch: (\d+) done, 0 skipped, (\d+) failed, (\d+) interrupted, .*", lines[-2]
    )
    assert summary, lines[-3:]
    done, failed, interrupted = (int(x) for x in summary.groups())
    assert done == finished and interrupted > 0 and done + failed + interrupted == 18
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 1, rerun.stderr  # the broken and empty files failed
    assert f"{finished} skipped, 2 failed" in rerun.stderr
    _check_outputs(out, corpus)
