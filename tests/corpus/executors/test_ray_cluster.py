"""The loopback cluster the Ray executor's tests run on: it starts, stays on loopback,
loses a node when told, and leaves no process behind."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

DRIVER = textwrap.dedent(
    """
    import json, sys, ray
    ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)

    @ray.remote(num_cpus=1)
    def where():
        import time
        time.sleep(0.5)  # both CPUs busy at once: one task per worker node
        return ray.get_runtime_context().get_node_id()

    nodes = [n for n in ray.nodes() if n["Alive"]]
    print(json.dumps({
        "ran_on": sorted(set(ray.get([where.remote() for _ in range(4)]))),
        "addresses": sorted({n["NodeManagerAddress"] for n in nodes}),
        "cpus": sum(n["Resources"].get("CPU", 0) for n in nodes),
        "nodes": len(nodes),
    }))
    ray.shutdown()
    """
)


def _drive(cluster) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, cluster.address],
        capture_output=True,
        text=True,
        env=cluster.env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cluster_runs_tasks_on_both_workers_and_stays_on_loopback(ray_cluster):
    seen = _drive(ray_cluster)
    assert seen["nodes"] == 3 and seen["cpus"] == 2
    assert seen["addresses"] == [ray_cluster.host]
    assert len(seen["ran_on"]) == 2
    peers = ray_cluster.peers()
    assert peers and all(p.startswith("127.") or p == "::1" for p in peers), peers


def test_killing_a_node_ends_its_processes_only_and_stop_ends_the_rest(ray_cluster):
    doomed = ray_cluster.nodes[0].pid
    before = set(ray_cluster.pids())
    ray_cluster.kill_node(0)
    after = set(ray_cluster.pids())
    assert after and after < before
    assert doomed not in after
    ray_cluster.stop()
    assert ray_cluster.pids() == []
