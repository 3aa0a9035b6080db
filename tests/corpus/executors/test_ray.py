"""The Ray executor: outputs equal the local executor's byte for byte, on a real loopback
cluster that loses a worker node mid-run; the extra is optional and named when missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qalign.cli.main import main

WORDS = "the quick brown fox jumps over a lazy dog while seven bright stars shine above".split()


def _corpus(root: Path, make_wav, count: int) -> Path:
    """``count`` items in three speaker folders (1-3 s each), plus one broken file."""
    rng = np.random.default_rng(7)
    for i in range(count):
        folder = root / f"spk{i % 3}"
        make_wav(folder / f"u{i:02d}.wav", 1.0 + (i % 5) * 0.5, freq=150.0 + 37 * i)
        text = " ".join(rng.choice(WORDS, 3 + i % 6))
        (folder / f"u{i:02d}.lab").write_text(text + "\n")
    (root / "spk0" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio")
    (root / "spk0" / "broken.lab").write_text("never aligned\n")
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _batch_cmd(corpus: Path, out: Path | str, model: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "qalign.cli", "batch", str(corpus), "-o", str(out),
        "--engine", "qwen3", "--model", str(model), "-f", "json", "-f", "textgrid",
        "-f", "srt", "--bucket-items", "2", *extra,
    ]  # fmt: skip


def test_missing_ray_names_the_extra_and_exits_3(
    tmp_path: Path, make_wav, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    corpus = _corpus(tmp_path / "c", make_wav, 1)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    rc = main(["batch", str(corpus), "-o", str(tmp_path / "out"), "--executor", "ray"])
    assert rc == 3
    err = capsys.readouterr().err
    assert 'pip install "qalign[ray]"' in err and "Traceback" not in err
    assert not (tmp_path / "out" / "spk0").exists()


def test_cluster_options_without_the_ray_executor_are_a_usage_error(
    tmp_path: Path, make_wav, capsys
) -> None:
    corpus = _corpus(tmp_path / "c", make_wav, 1)
    rc = main(["batch", str(corpus), "-o", str(tmp_path / "o"), "--workers", "2"])
    assert rc == 2
    assert "--workers only apply to --executor ray" in capsys.readouterr().err


def test_an_s3_url_without_its_backend_exits_3_before_anything_is_created(
    tmp_path: Path, make_wav, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pytest.importorskip("fsspec", reason='fsspec is not installed (pip install "qalign[fsspec]")')
    corpus = _corpus(tmp_path / "c", make_wav, 1)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setitem(sys.modules, "s3fs", None)  # `import s3fs` raises ImportError
    rc = main(["batch", str(corpus), "-o", "s3://bucket/out", "--executor", "ray"])
    assert rc == 3
    assert 'pip install "qalign[s3]"' in capsys.readouterr().err
    assert list((tmp_path / "cwd").iterdir()) == []  # no folder named "s3:"


@pytest.mark.slow
def test_file_url_output_with_ray_equals_the_local_executor_and_reruns_skip(
    tmp_path: Path, make_wav, parity_dir: Path
) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "qalign[ray]")')
    pytest.importorskip("fsspec", reason='fsspec is not installed (pip install "qalign[fsspec]")')
    corpus = _corpus(tmp_path / "c", make_wav, 2)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    env.pop("RAY_ADDRESS", None)
    model = parity_dir / "fa-tiny"
    url = (tmp_path / "ray").as_uri()  # file:///...: the workers write through fsspec
    cmd = _batch_cmd(corpus, url, model, "--executor", "ray", "--workers", "1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "2 done, 0 skipped, 1 failed" in done.stderr
    local = subprocess.run(_batch_cmd(corpus, tmp_path / "local", model), capture_output=True,
                           text=True, env=env, timeout=300)  # fmt: skip
    assert local.returncode == 1
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")  # outputs, markers, reports
    again = subprocess.run(_batch_cmd(corpus, url, model), capture_output=True,
                           text=True, env=env, timeout=300)  # fmt: skip
    assert "0 done, 2 skipped, 1 failed" in again.stderr, again.stderr


def test_an_address_with_nothing_behind_it_fails_fast(tmp_path: Path, make_wav, capsys) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "qalign[ray]")')
    import socket

    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.2", 0))
        address = f"127.0.0.2:{sock.getsockname()[1]}"
    corpus = _corpus(tmp_path / "c", make_wav, 1)
    started = time.monotonic()
    rc = main(["batch", str(corpus), "-o", str(tmp_path / "o"), "--executor", "ray",
               "--address", address])  # fmt: skip
    assert rc == 2 and time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert f"cannot reach the Ray cluster at {address}" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before any output


def test_local_executor_never_imports_ray(tmp_path: Path, make_wav, parity_dir: Path) -> None:
    corpus = _corpus(tmp_path / "c", make_wav, 2)
    cmd = _batch_cmd(corpus, tmp_path / "out", parity_dir / "fa-tiny")[3:]
    code = (
        "import sys; from qalign.cli.main import main; rc = main(sys.argv[1:]); "
        "print('RAY' if 'ray' in sys.modules else 'NO-RAY'); sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the broken file fails; the rest is done
    assert done.stdout.strip() == "NO-RAY"
    assert (tmp_path / "out" / "spk1" / "u01.json").is_file()


@pytest.mark.slow
def test_cluster_run_loses_a_node_and_matches_the_local_executor_byte_for_byte(
    tmp_path: Path, make_wav, parity_dir: Path, ray_cluster
) -> None:
    count = 30
    corpus = _corpus(tmp_path / "c", make_wav, count)
    model = parity_dir / "fa-tiny"
    # Scores are float sums: the same bytes need the same torch thread count, and a
    # one-CPU Ray worker runs one thread.
    env = {**ray_cluster.env(), "OMP_NUM_THREADS": "1"}
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    local = subprocess.run(_batch_cmd(corpus, local_out, model), capture_output=True,
                           text=True, env=env, timeout=600)  # fmt: skip
    assert local.returncode == 1, local.stderr  # the broken file

    run = subprocess.Popen(
        _batch_cmd(corpus, ray_out, model, "--executor", "ray", "--address", ray_cluster.address),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True)
    reader.start()
    markers = ray_out / ".qalign" / "done"
    try:
        # Kill a node while its worker aligns, once some items are done (and, unless the
        # first worker is far ahead, once both workers run: one per node).
        deadline = time.monotonic() + 300
        busy = None
        while run.poll() is None:
            assert time.monotonic() < deadline, "the Ray run made no progress"
            done = len(list(markers.rglob("*.json")))
            both = any("2 worker(s) ready on 2 node(s)" in line for line in lines)
            if done >= 2 and (both or done >= 8):
                busy = ray_cluster.busy_node("ray::BucketWorker.process")
                if busy is not None:
                    break
            time.sleep(0.02)
        finished_at_kill = len(list(markers.rglob("*.json")))
        peers = ray_cluster.peers()
        assert busy is not None, "the run ended before a node could be killed"
        ray_cluster.kill_node(busy)
        run.wait(timeout=600)
        reader.join(timeout=10)
    finally:
        if run.poll() is None:
            run.kill()
    err = "".join(lines)
    assert finished_at_kill < count, "the run ended before the node was killed"
    assert all(p.startswith("127.") or p == "::1" for p in peers), peers
    assert run.returncode == 1, err
    assert "go back to the queue" in err, err  # the dead node's buckets were retried
    assert f"{count} done, 0 skipped, 1 failed" in err

    got, want = _tree(ray_out), _tree(local_out)
    assert not [name for name in got if name.endswith(".part")]
    assert sorted(got) == sorted(want)  # every output once, nothing extra
    assert len([n for n in got if n.endswith(".json") and not n.startswith(".qalign")]) == count
    different = [name for name in want if got[name] != want[name]]
    assert different == []

    # A rerun through the cluster (one worker node left) skips every finished item.
    again = subprocess.run(
        _batch_cmd(corpus, ray_out, model, "--executor", "ray", "--address", ray_cluster.address),
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert f"0 done, {count} skipped, 1 failed" in again.stderr, again.stderr
    assert _tree(ray_out).keys() == got.keys()


def test_local_instance_without_address(tmp_path: Path, make_wav, parity_dir: Path) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "qalign[ray]")')
    corpus = _corpus(tmp_path / "c", make_wav, 3)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    env.pop("RAY_ADDRESS", None)
    model = parity_dir / "fa-tiny"
    cmd = _batch_cmd(corpus, tmp_path / "ray", model, "--executor", "ray", "--workers", "1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "3 done, 0 skipped, 1 failed" in done.stderr
    local = subprocess.run(_batch_cmd(corpus, tmp_path / "local", model), capture_output=True,
                           text=True, env=env, timeout=300)  # fmt: skip
    assert local.returncode == 1
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")


@pytest.mark.slow
def test_sigterm_ends_a_ray_run_like_a_local_one(
    tmp_path: Path, make_wav, parity_dir: Path
) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "qalign[ray]")')
    corpus = _corpus(tmp_path / "c", make_wav, 30)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    env.pop("RAY_ADDRESS", None)
    out = tmp_path / "out"
    cmd = _batch_cmd(corpus, out, parity_dir / "fa-tiny", "--executor", "ray", "--workers", "1")
    run = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 300
        while not list((out / ".qalign").rglob("*.json")) and run.poll() is None:
            assert time.monotonic() < deadline, "the Ray run made no progress"
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    # Ray's driver would exit with code 15 on its own; the CLI's handling is kept.
    assert run.returncode == 143, err
    assert "qalign: terminated (SIGTERM)" in err
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    assert (out / "failures.csv").is_file()  # the reports of what was done are written
