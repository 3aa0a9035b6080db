"""All-or-nothing output writing: temporary files, links, devices, stale files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qalign.atomic import (
    descriptor_of,
    is_temp_name,
    remove_stale,
    temp_name,
    write_all,
    write_atomic,
)
from qalign.errors import WriteError


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_all_renders_every_output_before_renaming_any(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a")

    def failing():
        yield "partial"
        raise ValueError("render failed")

    with pytest.raises(ValueError):
        write_all([(first, ["new a"]), (second, failing())])
    assert first.read_text() == "old a"  # untouched although its rendering had finished
    assert _names(tmp_path) == ["a.txt"]  # no temporary file and no b.txt


def test_interruption_while_rendering_leaves_nothing(tmp_path):
    def interrupted():
        yield "x"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_all([(tmp_path / "a.txt", ["a"]), (tmp_path / "b.txt", interrupted())])
    assert _names(tmp_path) == []


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.srt"
    real.write_text("old")
    link = tmp_path / "link.srt"
    link.symlink_to(real.name)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to("made.txt")
    write_atomic(link, "x")
    assert link.is_symlink() and (tmp_path / "made.txt").read_text() == "x"


def test_existing_permissions_kept(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    path.chmod(0o640)
    write_atomic(path, "new")
    assert path.stat().st_mode & 0o777 == 0o640


def test_device_targets_are_written_not_replaced(tmp_path):
    write_atomic(os.devnull, "discarded")
    assert not os.path.isfile(os.devnull)  # still the device
    read, write = os.pipe()
    try:
        write_all([(f"/dev/fd/{write}", ["through the pipe"])])
        assert os.read(read, 100) == b"through the pipe"
    finally:
        os.close(read)
        os.close(write)


def test_descriptor_names():
    assert descriptor_of("/dev/stdout") == 1
    assert descriptor_of("/proc/self/fd/7") == 7
    assert descriptor_of("/dev/fd/3") == 3
    assert descriptor_of("out.json") is None


def test_missing_folder_is_a_write_error(tmp_path):
    with pytest.raises(WriteError, match="nope"):
        write_atomic(tmp_path / "nope" / "a.txt", "x")


def test_unencodable_text_does_not_fail_half_way(tmp_path):
    write_atomic(tmp_path / "a.txt", "lone \ud800 surrogate")
    assert (tmp_path / "a.txt").read_text() == "lone ? surrogate"


def test_temp_names_are_recognisable():
    name = temp_name("words.TextGrid")
    assert name.startswith(".words.TextGrid.qalign-") and name.endswith(".part")
    assert is_temp_name(name)
    assert not is_temp_name(".words.TextGrid.swp") and not is_temp_name("words.part")
    assert len(temp_name("x" * 250)) < 200  # a long target name still leaves room


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_remove_stale_removes_only_files_of_dead_processes(tmp_path):
    mine = temp_name("a.json")
    stale = mine.replace(f"-{os.getpid()}.", f"-{_dead_pid()}.")
    other_host = "." + "b.json.qalign-00000000-1.abcd1234.part"
    for name in (mine, stale, other_host, "keep.json"):
        (tmp_path / name).write_text("x")
    removed = remove_stale(tmp_path)
    assert [p.name for p in removed] == [stale]
    assert sorted(_names(tmp_path)) == sorted([mine, other_host, "keep.json"])
