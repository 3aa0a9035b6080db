"""``qalign batch -o URL``: outputs, markers, reruns, reports and kill -9 under fsspec URLs
(``memory://``, ``file://``) with the local executor; a missing extra or backend is named."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qalign.atomic import temp_name
from qalign.cli.main import main

fsspec = pytest.importorskip(
    "fsspec", reason='fsspec is not installed (pip install "qalign[fsspec]")'
)

EXPECTED = {
    "spk1/a.TextGrid",
    "spk1/a.json",
    "spk1/b.TextGrid",
    "spk1/b.json",
    "spk2/c.TextGrid",
    "spk2/c.json",
    "meeting.TextGrid",
    "meeting.anna.json",
    "meeting.ben.json",
}
FINISHED = {"spk1/a", "spk1/b", "spk2/c", "meeting"}


def _local_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _memory_tree(url: str) -> dict[str, bytes]:
    fs = fsspec.filesystem("memory")
    base = "/" + url.split("://", 1)[1].strip("/")
    return {p[len(base) + 1 :]: fs.cat_file(p) for p in fs.find(base)}


@pytest.fixture()
def memory_out():
    """A fresh ``memory://`` folder, removed afterwards (the store lives in this process)."""
    fs = fsspec.filesystem("memory")
    name = f"qalign-test-{id(fs)}-{len(fs.store)}"
    yield f"memory://{name}"
    if fs.exists(f"/{name}"):
        fs.rm(f"/{name}", recursive=True)


def test_memory_url_outputs_markers_reports_and_rerun(
    small_corpus: Path, tmp_path: Path, even_engine, memory_out: str, capsys
) -> None:
    assert main(["batch", str(small_corpus), "-o", memory_out]) == 1  # two items fail
    tree = _memory_tree(memory_out)
    assert EXPECTED <= tree.keys()
    assert {k[len(".qalign/done/") : -5] for k in tree if k.startswith(".qalign/")} == FINISHED
    assert not [k for k in tree if ".part" in k]
    failures = list(csv.DictReader(io.StringIO(tree["failures.csv"].decode())))
    assert {r["item"] for r in failures} == {"spk2/broken", "empty"}
    report = list(csv.DictReader(io.StringIO(tree["alignment_report.csv"].decode())))
    assert {r["item"] for r in report} == FINISHED
    assert f"failures listed in {memory_out}/failures.csv" in capsys.readouterr().err

    # The same bytes as a run into a local folder (markers hold the same report rows).
    assert main(["batch", str(small_corpus), "-o", str(tmp_path / "local")]) == 1
    assert _local_tree(tmp_path / "local") == tree

    # A rerun skips every finished item; a lost output makes its item run again.
    fsspec.filesystem("memory").rm_file(f"/{memory_out[9:]}/spk1/b.json")
    capsys.readouterr()
    assert main(["batch", str(small_corpus), "-o", memory_out]) == 1
    assert "1 done, 3 skipped, 2 failed" in capsys.readouterr().err
    assert _memory_tree(memory_out) == tree


def test_file_url_equals_a_plain_path_and_cleans_stale_temps(
    small_corpus: Path, tmp_path: Path, even_engine, capsys
) -> None:
    out = tmp_path / "out"
    (out / "spk1").mkdir(parents=True)
    stale = out / "spk1" / temp_name("a.json")  # as left by a killed run
    stale.write_text("half")
    assert main(["batch", str(small_corpus), "-o", out.as_uri()]) == 1
    assert not stale.exists()
    assert main(["batch", str(small_corpus), "-o", str(tmp_path / "plain")]) == 1
    assert _local_tree(out) == _local_tree(tmp_path / "plain")
    marker = json.loads((out / ".qalign" / "done" / "spk1" / "a.json").read_text())
    assert marker["outputs"] == ["spk1/a.TextGrid", "spk1/a.json"]
    capsys.readouterr()
    assert main(["batch", str(small_corpus), "-o", out.as_uri()]) == 1
    assert "0 done, 4 skipped, 2 failed" in capsys.readouterr().err


def test_object_store_writes_each_file_in_one_put_without_temporary_keys(
    small_corpus: Path, even_engine, memory_out: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object-store path (one whole upload per file), on memory:// treated as one."""
    from qalign.corpus import remote

    monkeypatch.setattr(remote, "OBJECT_STORES", remote.OBJECT_STORES | {"memory"})
    remote.remote_dir.cache_clear()
    fs_class = type(fsspec.filesystem("memory"))
    puts: list[str] = []
    real_pipe = fs_class.pipe_file

    def pipe_file(self, path, value, *args, **kw):
        puts.append(path)
        return real_pipe(self, path, value, *args, **kw)

    def no_move(self, *args, **kw):
        raise AssertionError("an object store must not be written by a move")

    monkeypatch.setattr(fs_class, "pipe_file", pipe_file)
    monkeypatch.setattr(fs_class, "mv", no_move)
    try:
        assert main(["batch", str(small_corpus), "-o", memory_out]) == 1
    finally:
        remote.remote_dir.cache_clear()
    tree = _memory_tree(memory_out)
    assert EXPECTED <= tree.keys() and {"failures.csv", "alignment_report.csv"} <= tree.keys()
    assert not [p for p in puts if ".part" in p]
    assert len(puts) == len(tree) == len(set(puts))  # every file exactly one upload
    markers = [p for p in puts if "/.qalign/done/" in p]
    assert len(markers) == len(FINISHED)
    for marker in markers:  # each marker uploaded after every output it lists
        listed = json.loads(tree[marker.split("/", 2)[2]])["outputs"]
        base = marker.split("/.qalign/")[0]
        assert all(puts.index(f"{base}/{rel}") < puts.index(marker) for rel in listed)


# Runs the batch command in a child whose third move of a finished temporary file onto
# its target kills the process with SIGKILL: a temporary file is left mid-item.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    import conftest
    import qalign.aligner.engines as engines
    from fsspec.implementations.local import LocalFileSystem
    from qalign.cli.main import main

    engines.create_aligner = lambda *a, **k: conftest.EvenAligner()
    moves = 0
    real_mv = LocalFileSystem.mv

    def mv(self, path1, path2, **kw):
        global moves
        moves += 1
        if moves == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_mv(self, path1, path2, **kw)

    LocalFileSystem.mv = mv
    sys.exit(main(sys.argv[3:]))
    """
)


def test_file_url_kill_minus_9_mid_write_then_rerun(small_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["batch", str(small_corpus), "-o", out.as_uri(), "--bucket-items", "1"]
    here = str(Path(__file__).parent)
    # Item one: its 2 outputs and its marker (3 moves); item two: killed at its 2nd output.
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, here, "5", *args], capture_output=True, timeout=120
    )
    assert killed.returncode == -9, killed.stderr.decode()[-1000:]
    left = [p for p in out.rglob("*.part")]
    assert len(left) == 1  # the second item's second output, written but not moved
    markers = list((out / ".qalign" / "done").rglob("*.json"))
    assert len(markers) == 1
    rerun = subprocess.run(
        [sys.executable, "-c", KILLER, here, "0", *args], capture_output=True, timeout=120
    )
    err = rerun.stderr.decode()
    assert rerun.returncode == 1, err[-1000:]
    assert "3 done, 1 skipped, 2 failed" in err
    assert not list(out.rglob("*.part"))
    tree = _local_tree(out)
    assert EXPECTED <= tree.keys()
    assert {k for k in tree if not k.startswith(".qalign/")} == EXPECTED | {
        "failures.csv",
        "alignment_report.csv",
    }
    for key in ("spk1/a", "spk1/b", "spk2/c"):  # complete: each JSON parses
        assert json.loads(tree[f"{key}.json"])["words"]


def test_s3_without_its_backend_names_the_extra_and_exits_3(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # `import s3fs` raises ImportError
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert main(["batch", str(small_corpus), "-o", "s3://bucket/out"]) == 3
    err = capsys.readouterr().err
    assert "'s3fs'" in err and 'pip install "qalign[s3]"' in err and "Traceback" not in err
    assert list((tmp_path / "cwd").iterdir()) == []  # no folder named "s3:"


def test_a_url_without_fsspec_names_the_extra_and_exits_3(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    assert main(["batch", str(small_corpus), "-o", "memory://nowhere"]) == 3
    assert 'pip install "qalign[fsspec]"' in capsys.readouterr().err


def test_urls_a_run_cannot_use_are_usage_errors(small_corpus: Path, capsys) -> None:
    assert main(["batch", str(small_corpus), "-o", "memory://x", "--executor", "ray"]) == 2
    assert "memory:// lives in one process" in capsys.readouterr().err
    assert main(["batch", str(small_corpus), "-o", "memory://x", "-f", "html"]) == 2
    assert "review pages" in capsys.readouterr().err
    assert main(["batch", str(small_corpus), "-o", "nosuchscheme://x"]) == 2
    assert "not a URL fsspec can write" in capsys.readouterr().err


PLAIN_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import conftest
    import qalign.aligner.engines as engines
    from qalign.cli.main import main

    engines.create_aligner = lambda *a, **k: conftest.EvenAligner()
    rc = main(sys.argv[2:])
    print(sorted(m for m in ("fsspec", "ray") if m in sys.modules))
    sys.exit(rc)
    """
)


def test_a_plain_path_never_imports_fsspec(small_corpus: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PLAIN_RUN, str(Path(__file__).parent), "batch",
         str(small_corpus), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-1000:]
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "out" / "spk1" / "a.json").is_file()
