"""A real Ray cluster on loopback for the Ray executor's tests.

:class:`LoopbackCluster` starts a CPU-less head node and N one-CPU worker nodes with
``ray start --block``, each in its own process group and with its own temporary
folder, all bound to ``127.0.0.2`` (Ray replaces ``127.0.0.1`` by the machine's
outward address, but keeps other loopback addresses). It ends exactly the process
groups it started, by id: never ``ray stop``, which would stop every Ray process on
the machine. Tests skip, saying why, when Ray is not installed.
"""

from __future__ import annotations

import ipaddress
import os
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


def ray_env() -> dict[str, str]:
    """Environment for Ray processes: no usage reports, no outward address."""
    env = dict(os.environ)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env.pop("RAY_ADDRESS", None)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _pgid_members(pgids: set[int]) -> list[int]:
    """Live (non-zombie) processes whose process group is one of ``pgids``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) in pgids:
            members.append(int(entry))
    return members


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
                env=ray_env(),
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
    def pgids(self) -> set[int]:
        return {p.pid for p in [self.head, *self.nodes] if p is not None}

    def pids(self) -> list[int]:
        """Every live process of the cluster's nodes (each node is its own process group)."""
        return _pgid_members(self.pgids)

    def kill_node(self, index: int) -> None:
        """SIGKILL worker node ``index``: its ``ray start``, raylet and worker processes."""
        proc = self.nodes[index]
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop(self) -> None:
        """End every process group this cluster started (SIGKILL: these are throwaway nodes)."""
        for proc in [*self.nodes, self.head]:
            if proc is None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
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

    env = staticmethod(ray_env)
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
