"""A real Ray cluster on loopback for the Ray executor's tests.

:class:`LoopbackCluster` starts a CPU-less head node and N one-CPU worker nodes with
``ray start --block``, each in a session of its own and with its own temporary
folder, all bound to ``127.0.0.2`` (Ray replaces ``127.0.0.1`` by the machine's
outward address, but keeps other loopback addresses). It ends exactly the processes
of the sessions it started, by id: never ``ray stop``, which would stop every Ray process on
the machine. Tests skip, saying why, when Ray is not installed.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.2"
READY = "block forever"  # what `ray start --block` logs once its node has joined


def ray_env(token: str) -> dict[str, str]:
    """Environment for the cluster's processes and its drivers: no usage reports, and token
    authentication with this cluster's own token (Ray's gRPC ports listen on every
    interface; ``~/.ray/auth_token`` is neither read nor written)."""
    env = dict(os.environ)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["RAY_AUTH_MODE"] = "token"
    env["RAY_AUTH_TOKEN"] = token
    env.pop("RAY_ADDRESS", None)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _session_members(sids: set[int]) -> list[int]:
    """Live (non-zombie) processes whose session is one of ``sids``.

    Each node's ``ray start`` runs in a session of its own, and everything it starts
    stays in it (Ray's worker processes get process groups of their own, not sessions).
    """
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) in sids:
            members.append(int(entry))
    return members


def _kill_session(sid: int) -> None:
    for _ in range(3):  # a dying raylet may still be starting a worker: look again
        members = _session_members({sid})
        if not members:
            return
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _decode(hex_addr: str) -> str:
    host, _port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    address = ipaddress.IPv6Address(words)
    return str(address.ipv4_mapped or address)


def tcp_peers(pids: list[int]) -> set[str]:
    """Remote addresses of the TCP connections (any state but LISTEN) that ``pids`` hold."""
    inodes = _socket_inodes(pids)
    peers = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[9] in inodes and cols[3] != "0A":  # 0A: LISTEN
                peers.add(_decode(cols[2]))
    return peers


class LoopbackCluster:
    """Head node plus ``workers`` worker nodes of ``cpus`` CPUs each, on 127.0.0.2."""

    def __init__(self, root: Path, workers: int = 2, cpus: int = 1, timeout: float = 90.0) -> None:
        self.root = root
        self.workers = workers
        self.cpus = cpus
        self.timeout = timeout
        self.port = _free_port()
        self.address = f"{HOST}:{self.port}"
        self.token = secrets.token_hex(32)
        self.head: subprocess.Popen | None = None
        self.nodes: list[subprocess.Popen] = []
        self._logs: dict[int, Path] = {}

    def _ray(self) -> str:
        return str(Path(sys.executable).with_name("ray"))

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        # A short temporary folder: Ray's unix socket paths must stay under ~107 bytes.
        temp = self.root / name
        log = self.root / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    self._ray(),
                    "start",
                    "--block",
                    "--node-ip-address",
                    HOST,
                    "--temp-dir",
                    str(temp),
                    "--disable-usage-stats",
                    *args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                start_new_session=True,
            )
        self._logs[proc.pid] = log
        return proc

    def _wait_ready(self, proc: subprocess.Popen) -> None:
        log = self._logs[proc.pid]
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if READY in log.read_text(errors="replace"):
                return
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        tail = log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"ray node did not start (exit {proc.poll()}):\n{tail}")

    def start(self) -> LoopbackCluster:
        self.head = self._spawn(
            "h",
            ["--head", "--port", str(self.port), "--num-cpus", "0", "--include-dashboard", "false"],
        )
        self._wait_ready(self.head)
        for i in range(self.workers):
            self.add_worker(i)
        return self

    def add_worker(self, index: int) -> subprocess.Popen:
        proc = self._spawn(f"w{index}", ["--address", self.address, "--num-cpus", str(self.cpus)])
        self.nodes.append(proc)
        self._wait_ready(proc)
        return proc

    @property
    def sessions(self) -> set[int]:
        return {p.pid for p in [self.head, *self.nodes] if p is not None}

    def pids(self) -> list[int]:
        """Every live process of the cluster's nodes (each node is a session of its own)."""
        return _session_members(self.sessions)

    def busy_node(self, title: str) -> int | None:
        """Index of a worker node running a process titled ``title`` (Ray titles an actor
        process ``ray::CLASS.METHOD`` while a call runs), or ``None``."""
        for index, proc in enumerate(self.nodes):
            for pid in _session_members({proc.pid}):
                try:
                    argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                except OSError:
                    continue
                if argv0.decode(errors="replace").startswith(title):
                    return index
        return None

    def kill_node(self, index: int) -> None:
        """SIGKILL worker node ``index``: its ``ray start``, raylet and worker processes."""
        proc = self.nodes[index]
        _kill_session(proc.pid)
        proc.wait(timeout=30)

    def stop(self) -> None:
        """End every process this cluster started (SIGKILL: these are throwaway nodes)."""
        for proc in [*self.nodes, self.head]:
            if proc is None:
                continue
            _kill_session(proc.pid)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)

    def peers(self) -> set[str]:
        """Remote addresses the cluster's processes are connected to right now."""
        return tcp_peers(self.pids())

    def env(self) -> dict[str, str]:
        """Environment for a process that joins this cluster (a driver such as ``qalign batch``)."""
        return ray_env(self.token)

    host = HOST

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in self._logs.values())


def _require_ray() -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "qalign[ray]")')
    if not sys.platform.startswith("linux"):
        pytest.skip("the loopback cluster needs Linux (127.0.0.2 and /proc)")


@pytest.fixture
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    """A started head + two one-CPU worker nodes on loopback; stopped after the test."""
    _require_ray()
    root = Path(tmp_path_factory.mktemp("rc", numbered=True))
    cluster = LoopbackCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
