"""A Ray cluster on this machine (ray.cluster_utils: a head with no CPUs and --workers nodes with one logical
CPU and the `sandbox` resource each) with a swe_selfplay.ray deployment of the service config given, for
tests that drive it from outside (the learning loop's `ray` source). Prints one JSON line,
{address, name, replicas}, then holds the cluster until its stdin closes; tears down and shuts it down then.

    python test/ray/cluster.py --config serve.json --cli '["node", "bin/swe-selfplay.js"]' [--workers 1]"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

from swe_selfplay.ray import deploy

SMALL_NODE = {"object_store_memory": 80 * 1024**2}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--cli", required=True, help="a JSON list: how to call the CLI")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ports", default="21600-21699")
    args = parser.parse_args()
    low, high = (int(port) for port in args.ports.split("-"))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False, **SMALL_NODE})
    try:
        for _ in range(args.workers):
            cluster.add_node(num_cpus=1, resources={"sandbox": 1}, **SMALL_NODE)
        cluster.wait_for_nodes()
        deployment = deploy(
            cluster.address, node_resource="sandbox", config=Path(args.config).read_text(),
            command=json.loads(args.cli), host="127.0.0.1", ports=(low, high),
            directory=tempfile.mkdtemp(prefix="swe-selfplay-ray-"), health_timeout_s=180,
        )  # fmt: skip
        try:
            print(json.dumps({"address": cluster.address, "name": deployment.name, "replicas": deployment.infos()}),
                  flush=True)  # fmt: skip
            sys.stdin.read()
        finally:
            deployment.teardown()
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
