"""Fixtures shared by the whole suite.

``shared_dir`` is the project's shared folder of third-party fixtures and
parity checkpoints, expected beside the repository (``<repo>/../shared``) or
wherever ``QALIGN_SHARED`` points. Tests that need it skip, saying why, when it
is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    env = os.environ.get("QALIGN_SHARED")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = _shared()
    if not path.is_dir():
        pytest.skip(f"shared fixtures folder not found at {path} (set QALIGN_SHARED)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir(shared_dir: Path) -> Path:
    path = shared_dir / "fixtures"
    if not path.is_dir():
        pytest.skip(f"third-party fixtures not found at {path}")
    return path


@pytest.fixture(scope="session")
def parity_dir(shared_dir: Path) -> Path:
    path = shared_dir / "parity"
    if not path.is_dir():
        pytest.skip(f"parity checkpoints not found at {path}")
    return path


@pytest.fixture(autouse=True)
def _restore_qalign_logger():
    """In-process CLI runs configure the library logger; give each test a clean one."""
    import logging

    logger = logging.getLogger("qalign")
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers
    logger.propagate = propagate


@pytest.fixture()
def rss_file_kb():
    """A function giving this process's resident file-backed memory (``RssFile`` in
    /proc/self/status), in kB; the test skips where there is none (not Linux)."""
    status = Path("/proc/self/status")

    def read() -> int:
        if status.is_file():
            for line in status.read_text().splitlines():
                if line.startswith("RssFile:"):
                    return int(line.split()[1])
        pytest.skip("no RssFile in /proc/self/status")

    return read
