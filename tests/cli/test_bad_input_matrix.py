"""The bad-input matrix: every command fed what a new user might have.

Every case asserts: exactly one line on stderr, ``qalign: error: ...`` naming the
file and the problem; exit code 2 (bad input or usage); no traceback; nothing
written (no output, no temporary file). Most cases run in this process (fast);
the memory cases run as subprocesses whose peak memory is measured (a fresh
wrapper process, so that ``RUSAGE_CHILDREN`` is the command's alone) and must
stay under a stated bound.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qalign.atomic import is_temp_name
from qalign.cli.main import main

_spec = importlib.util.spec_from_file_location(
    "bad_inputs", Path(__file__).with_name("bad_inputs.py")
)
assert _spec and _spec.loader
bad = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bad)

CASES = [
    pytest.param(command, name, maker, id=f"{command}-{name}")
    for command, makers in bad.COMMANDS.items()
    for name, maker in makers.items()
]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def check_refusal(stderr: str, code: int, needles: list[str], created: set[str]) -> None:
    """The shared assertions of every case."""
    lines = stderr.splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one line on stderr, got: {stderr!r}"
    assert lines[0].startswith("qalign: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert code == 2, f"exit code {code}: {lines[0]}"
    leftovers = [p for p in created if is_temp_name(Path(p).name) or "out" in Path(p).name]
    assert not leftovers, f"left behind: {leftovers}"


def test_the_matrix_is_large_enough():
    assert len(CASES) >= 80
    assert {c.values[0] for c in CASES} == {
        "convert", "align", "transcribe", "evaluate", "batch", "split",
    }  # fmt: skip


@pytest.mark.parametrize(("command", "name", "maker"), CASES)
def test_bad_input(tmp_path, capsys, monkeypatch, command, name, maker):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never wait on the network
    argv, needles = maker(tmp_path)
    before = _tree(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    created = _tree(tmp_path) - before
    check_refusal(captured.err, code, needles, created)


@pytest.mark.parametrize("name", sorted(bad.BATCH_ITEM_FAILURES))
def test_batch_items_fail_and_the_run_reports(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    argv, needles = bad.BATCH_ITEM_FAILURES[name](tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 1, err
    assert "1 failed" in err and "failures.csv" in err.splitlines()[-1]
    failures = (tmp_path / "out" / "failures.csv").read_text(encoding="utf-8")
    for needle in needles:
        assert needle in failures, failures
    assert not [p for p in (tmp_path / "out").rglob("*") if is_temp_name(p.name)]


# -- memory: subprocesses measured from a fresh wrapper -------------------------------

_MEASURE = (
    "import resource, subprocess, sys\n"
    "proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
    "print(__import__('json').dumps([proc.returncode, proc.stderr, peak]))\n"
)


def run_measured(argv: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, int]:
    """``(exit code, stderr, peak RSS in bytes)`` of ``qalign argv`` in a subprocess."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "qalign.cli", *argv],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=True,
    )  # fmt: skip
    code, stderr, peak = json.loads(out.stdout)
    return code, stderr, peak


MIB = 1 << 20
BASE = 150 * MIB
"""What a refusal may cost at most (measured: 57 MiB, the interpreter, numpy and PyAV)."""

TORCH_BASE = 600 * MIB
"""The same once the engine's libraries are loaded (torch: about 250-340 MiB measured)."""

TORCH_CASES = {"align-audio-nan", "align-qwen3-model-missing", "transcribe-asr-model-missing"}
"""Cases refused after torch is imported (a model folder checked, audio read by the engine)."""

MEMORY_CASES = [
    ("align", "audio-1hz"),  # 200 kB claiming 1 Hz: grew past 12 GB before the fix
    ("align", "audio-100-channels"),
    ("align", "transcript-too-fast"),  # 5000 words for 8 s
    ("split", "audio-1hz"),
    ("convert", "ctm-1e308"),
    ("convert", "json-deep"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("command", "name", "maker"), CASES)
def test_bad_input_in_a_subprocess(tmp_path, command, name, maker):
    """Every case again as a real process: the same line and exit code, under BASE."""
    argv, needles = maker(tmp_path)
    before = _tree(tmp_path)
    code, stderr, peak = run_measured(argv, tmp_path)
    check_refusal(stderr, code, needles, _tree(tmp_path) - before)
    bound = TORCH_BASE if f"{command}-{name}" in TORCH_CASES else BASE
    assert peak < bound, f"peak {peak / MIB:.0f} MiB"


@pytest.mark.parametrize(("command", "name"), MEMORY_CASES, ids=lambda v: v)
def test_refusals_in_bounded_memory(tmp_path, command, name):
    argv, needles = bad.COMMANDS[command][name](tmp_path)
    before = _tree(tmp_path)
    code, stderr, peak = run_measured(argv, tmp_path)
    check_refusal(stderr, code, needles, _tree(tmp_path) - before)
    assert peak < BASE, f"peak {peak / MIB:.0f} MiB"


def _ctm_lines(words: int) -> str:
    return "".join(f"rec 1 {i * 0.3:.3f} 0.200 w{i % 977} 0.9\n" for i in range(words))


def convert_bound(size: int, words: int) -> int:
    """The README's bound for ``qalign convert``: 60 MiB, twice the file, 500 bytes a word."""
    return 60 * MIB + 2 * size + 500 * words


@pytest.mark.slow
@pytest.mark.parametrize("source", ["ctm", "json", "TextGrid"])
def test_convert_memory_is_a_small_multiple_of_the_input(tmp_path, source):
    """A 60,000-word file in each of the densest formats, to JSON and TextGrid (before
    the fix a CTM needed about 60 times its size)."""
    words = 60_000
    ctm = bad.write(tmp_path / "in.ctm", _ctm_lines(words))
    path = ctm
    if source != "ctm":
        path = tmp_path / f"in.{source}"
        assert main(["convert", str(ctm), str(path)]) == 0
    size = path.stat().st_size
    for target in ("out.json", "out.TextGrid"):
        code, stderr, peak = run_measured(["convert", path.name, target], tmp_path)
        assert code == 0, stderr
        assert peak < convert_bound(size, words), (
            f"{source} -> {target}: {peak / MIB:.0f} MiB for {size / MIB:.1f} MiB"
        )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["aligner", "recogniser"])
def test_broken_checkpoint_is_one_line(tmp_path, shared_dir, kind):
    """transformers' multi-line load report stays quiet before our one-line refusal."""
    import shutil

    from safetensors.numpy import load_file, save_file

    source = shared_dir / "parity" / ("fa-tiny" if kind == "aligner" else "asr-tiny")
    if not source.is_dir():
        pytest.skip(f"{source} not found")
    broken = tmp_path / "broken"
    shutil.copytree(source, broken)
    weights = broken / "model.safetensors"
    weights.chmod(0o644)
    tensors = load_file(weights)
    for key in sorted(tensors)[:3]:
        del tensors[key]
    save_file(tensors, weights)
    hello = bad.write(tmp_path / "hello.wav", bad.HELLO_WAV.read_bytes())
    if kind == "aligner":
        argv = [
            "align",
            str(hello),
            str(bad.HELLO_TXT),
            "--engine",
            "qwen3",
            "--model",
            str(broken),
        ]
    else:
        argv = ["transcribe", str(hello), "--asr-model", str(broken), "--no-align"]
    before = _tree(tmp_path)
    code, err, _peak = run_measured([*argv, "-q", "-o", str(tmp_path / "out.json")], tmp_path)
    check_refusal(err, code, [str(broken), "missing weights: 3"], _tree(tmp_path) - before)


@pytest.mark.parametrize(
    ("name", "make", "needles"),
    [
        ("1hz", lambda d: bad.wav(d / "one.wav", rate=1, samples=100_000), ["one.wav", "1 Hz"]),
        ("nan", lambda d: bad.nan_wav(d / "nan.wav"), ["nan.wav", "NaN"]),
        ("not-audio", lambda d: bad.write(d / "t.wav", "text\n" * 50), ["t.wav", "decode"]),
    ],
)
def test_transcribe_bad_audio_with_a_model(tmp_path, shared_dir, name, make, needles):
    """With a (tiny) recogniser on disk, the audio itself is what gets refused."""
    model = shared_dir / "parity" / "asr-tiny"
    if not model.is_dir():
        pytest.skip(f"{model} not found")
    audio = make(tmp_path)
    before = _tree(tmp_path)
    argv = ["transcribe", str(audio), "--asr-model", str(model), "--no-align", "-q"]
    code, stderr, peak = run_measured([*argv, "-o", str(tmp_path / "out.txt")], tmp_path)
    check_refusal(stderr, code, needles, _tree(tmp_path) - before)
    assert peak < TORCH_BASE, f"peak {peak / MIB:.0f} MiB"
