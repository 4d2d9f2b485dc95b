"""Figures for swe_selfplay.ray on a Ray cluster on this machine (ray.cluster_utils: a head with no CPUs and
N worker nodes with one logical CPU each); started by bench/ray/run.ts, which gives it a scripted model
server and the Python fixture repository.

 1. time to deploy N replicas (until every one answers /v1/health) and to tear them down (every process
    group gone), for every deployment the rounds make;
 2. per-step overhead of the Ray deployment's pool vs a direct ReplicaPool over its URLs: per round, each
    side plays --steps steps on a deployment of its own with fresh stores (so both play the same new
    bugs, not the other side's duplicates), the sides in alternating order; per round and in total
    (goal <= 1 %);
 3. memory per idle node: the proportional set size of each worker node's processes (its raylet, agents
    and workers) and, within it, of its replica (the guard, `serve` and what it started).

Environment: SWE_SELFPLAY_RAY_MODEL_URL, SWE_SELFPLAY_RAY_REPO, SWE_SELFPLAY_RAY_CLI (a JSON list)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import ray
from ray.cluster_utils import Cluster

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from swe_selfplay.client import ReplicaPool, StepRequest  # noqa: E402
from swe_selfplay.ray import deploy  # noqa: E402

SMALL_NODE = {"object_store_memory": 80 * 1024**2}


def pss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def steps_through(pool: ReplicaPool, prefix: str, count: int, config: dict) -> float:
    """Seconds for `count` steps requested at once through `pool` and waited for in parallel."""
    started = time.monotonic()
    requests = [StepRequest(request_id=f"{prefix}-{index}", inference=config["inference"], policy_version="v1",
                            environment="inkwell", strategy="direct", group_size=2) for index in range(count)]
    views = [pool.request_step(request) for request in requests]
    with ThreadPoolExecutor(max_workers=count) as executor:
        done = list(executor.map(lambda view: pool.wait_step(view, timeout_s=600), views))
    assert all(view.status == "done" for view in done)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6, help="steps per side per round")
    args = parser.parse_args()
    cli = json.loads(os.environ["SWE_SELFPLAY_RAY_CLI"])
    config = {
        "environments": [{"name": "inkwell", "path": os.environ["SWE_SELFPLAY_RAY_REPO"]}],
        "secondOrder": {"enabled": False},
        "concurrency": {"proposers": 2, "solvers": 2, "sandboxes": 4},
    }
    inference = {"kind": "openai-chat", "base_url": os.environ["SWE_SELFPLAY_RAY_MODEL_URL"], "model": "quick"}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False, **SMALL_NODE})
    workers = [cluster.add_node(num_cpus=1, resources={"sandbox": 1}, **SMALL_NODE) for _ in range(args.replicas)]
    cluster.wait_for_nodes()
    report: dict = {"replicas": args.replicas, "rounds": []}
    options = dict(config=config, command=cli, host="127.0.0.1", ports=(21900, 21999), node_resource="sandbox")
    deploys: list[dict] = []

    def deployed(label: str):
        """A deployment on fresh stores (so both sides play the same new steps), timed."""
        started = time.monotonic()
        deployment = deploy(cluster.address, name=label, directory=tempfile.mkdtemp(prefix="swe-selfplay-bench-ray-"),
                            **options)  # fmt: skip
        deploys.append({"deploy_s": round(time.monotonic() - started, 2)})
        return deployment

    def torn_down(deployment) -> None:
        groups = [info["pgid"] for info in deployment.infos()]
        started = time.monotonic()
        deployment.teardown()
        deploys[-1]["teardown_s"] = round(time.monotonic() - started, 2)
        deploys[-1]["groups_gone"] = all(not psutil.pid_exists(group) for group in groups)

    try:
        for round_index in range(args.rounds):
            order = ["direct", "ray"] if round_index % 2 == 0 else ["ray", "direct"]
            times = {}
            for side in order:
                deployment = deployed(f"bench-{round_index}-{side}")
                if "idle_nodes" not in report:
                    time.sleep(5)  # idle: no step yet, the services settled
                    infos = deployment.infos()
                    nodes = []
                    for worker in workers:
                        info = next(info for info in infos if info["node_id"] == worker.node_id)
                        raylet = worker.all_processes["raylet"][0].process.pid
                        nodes.append({"node_mib": round(pss(tree(raylet)) / 2**20),
                                      "replica_mib": round(pss(tree(info["pgid"])) / 2**20)})  # fmt: skip
                    report["idle_nodes"] = nodes
                pool = ReplicaPool.of_urls(deployment.urls()) if side == "direct" else deployment.pool()
                times[side] = steps_through(pool, f"{side}-r{round_index}", args.steps, {"inference": inference})
                torn_down(deployment)
            report["rounds"].append({"direct_s": round(times["direct"], 2), "ray_s": round(times["ray"], 2)})
        report["deployments"] = deploys
    finally:
        ray.shutdown()
        cluster.shutdown()
    direct_total = sum(entry["direct_s"] for entry in report["rounds"])
    ray_total = sum(entry["ray_s"] for entry in report["rounds"])
    report["steps_per_side"] = args.steps * args.rounds
    report["overhead_pct"] = round(100 * (ray_total - direct_total) / direct_total, 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
