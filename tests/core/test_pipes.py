"""Audio from pipes and devices: copied once, bounded, errors naming the pipe."""

from __future__ import annotations

import os
import threading
import wave

import numpy as np
import pytest

from qalign.audio import load_audio, probe
from qalign.errors import QalignError
from qalign.pipes import seekable_audio


def _wav(path, rate=16000, samples=None):
    samples = np.zeros(1600, np.int16) if samples is None else samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def test_pipe_is_spooled_and_errors_name_it(tmp_path):
    source = _wav(tmp_path / "a.wav", 16000, np.ones(8000, np.int16))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed(data: bytes) -> None:
        with open(fifo, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=feed, args=(source.read_bytes(),))
    writer.start()
    with seekable_audio(str(fifo)) as path:
        assert path != str(fifo)
        assert probe(path).duration == pytest.approx(0.5)
        assert load_audio(path).size == 8000
    writer.join()
    assert not os.path.exists(path)  # the temporary copy is gone

    writer = threading.Thread(target=feed, args=(b"not audio at all" * 10,))
    writer.start()
    with pytest.raises(QalignError) as info, seekable_audio(str(fifo)) as path:
        probe(path)
    writer.join()
    assert str(info.value).startswith(f"{fifo}: ") and path not in str(info.value)


def test_regular_file_is_used_as_is(tmp_path):
    path = _wav(tmp_path / "a.wav")
    with seekable_audio(str(path)) as same:
        assert same == str(path)


def test_copies_left_by_killed_runs_are_removed(tmp_path, monkeypatch):
    import subprocess
    import sys
    import tempfile

    from qalign.atomic import temp_name

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / temp_name("audio").replace(f"-{os.getpid()}.", f"-{child.pid}.")
    stale.write_bytes(b"RIFF half a copy")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    source = _wav(tmp_path / "a.wav")
    writer = threading.Thread(target=lambda: fifo.write_bytes(source.read_bytes()))
    writer.start()
    with seekable_audio(str(fifo)) as path:
        assert probe(path).duration == pytest.approx(0.1)
    writer.join()
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "fifo"]
