"""`serve` replicas on a real multi-node Ray cluster on one machine (ray.cluster_utils.Cluster: a head with
no CPUs and three worker nodes with one logical CPU and a `sandbox` resource each), playing steps against
the scripted model server test/ray/ray.test.ts starts. Deployed, inspected and torn down with
`python -m swe_selfplay.ray`, found by the trainer's --ray-address and ReplicaPool.from_ray. Spread over
nodes; a replica's service process killed (started again on its store, finished results still served, a step
in flight finished); a node removed in the middle of an iteration of the trainer's rollout stage (every step
finishes, none delivered twice, no sample twice, the replica's process group gone); and bad input, each
refused with a one-line reason. The cluster's peak memory is bounded (3 GiB) and reported.

Needs SWE_SELFPLAY_RAY_MODEL_URL, SWE_SELFPLAY_RAY_REPO and SWE_SELFPLAY_RAY_CLI (a JSON list: how to call
the CLI); the vitest file sets them."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid

import psutil
import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from swe_selfplay.adapters.steps import SharedSteps, StepSettings  # noqa: E402
from swe_selfplay.client import ReplicaPool, ServiceClient, StepRequest  # noqa: E402
from swe_selfplay.ray import DeploymentError, connect, deploy  # noqa: E402
from swe_selfplay.rollout_stage import RolloutSettings, collect  # noqa: E402
from swe_selfplay.train import parse_arguments  # noqa: E402

MODEL_URL = os.environ["SWE_SELFPLAY_RAY_MODEL_URL"]
REPO = os.environ["SWE_SELFPLAY_RAY_REPO"]
CLI = json.loads(os.environ["SWE_SELFPLAY_RAY_CLI"])
SMALL_NODE = {"object_store_memory": 80 * 1024**2}
CONFIG = {
    "environments": [{"name": "inkwell", "path": REPO}],
    "secondOrder": {"enabled": False},
    "concurrency": {"proposers": 2, "solvers": 2, "sandboxes": 4},
}


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def until(condition, timeout_s: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} not met within {timeout_s} s")


def step(request_id: str, model: str = "quick") -> StepRequest:
    return StepRequest(
        request_id=request_id,
        inference={"kind": "openai-chat", "base_url": MODEL_URL, "model": model},
        policy_version="v1", policy_step=1, environment="inkwell", strategy="direct", group_size=2,
    )  # fmt: skip


class PeakMemory:
    """The largest memory of this process and everything it started (the Ray nodes, their actors, the
    replicas and their sandboxes), sampled every second as the sum of proportional set sizes (a shared page
    counts once across the processes that share it)."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        me = psutil.Process()
        while not self._stop.wait(1.0):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_full_info().pss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    memory = PeakMemory()
    started = time.monotonic()
    head = {"num_cpus": 0, "include_dashboard": False, **SMALL_NODE}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(3):
        cluster.add_node(num_cpus=1, resources={"sandbox": 1}, **SMALL_NODE)
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        peak = memory.stop()
        report = {"peak_pss_mib": round(peak / 2**20), "cluster_s": round(time.monotonic() - started, 1)}
        if os.environ.get("SWE_SELFPLAY_RAY_REPORT"):
            with open(os.environ["SWE_SELFPLAY_RAY_REPORT"], "w") as handle:
                json.dump(report, handle)
        assert peak < 3 * 2**30, f"the cluster and its replicas peaked at {report['peak_pss_mib']} MiB"


@pytest.fixture(scope="module")
def state():
    return {}


def shell(*args: str) -> dict:
    """`python -m swe_selfplay.ray ARGS`: its JSON line."""
    done = subprocess.run([sys.executable, "-m", "swe_selfplay.ray", *args], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def deployment(cluster, tmp_path_factory, state):
    # Deployed from a shell with the service's config file, as docs/scale.md does; found by name.
    directory = tmp_path_factory.mktemp("replicas")
    config = directory / "serve.yaml"
    config.write_text(json.dumps(CONFIG))
    shell("deploy", "--address", cluster.address, "--node-resource", "sandbox", "--config",
          str(config), "--cli", shlex.join(CLI), "--host", "127.0.0.1", "--ports", "21700-21799", "--directory",
          str(directory))  # fmt: skip
    deployment = connect(cluster.address)
    state["groups"] = {info["pgid"] for info in deployment.infos()}
    try:
        yield deployment
    finally:
        groups = state["groups"] | {info["pgid"] for info in deployment.infos() if "pgid" in info}
        shell("teardown", "--address", cluster.address)
        # Teardown leaves no process of any replica's group behind.
        assert [group for group in groups if group_alive(group)] == []


def test_one_replica_per_sandbox_node_and_steps_spread_over_them(cluster, deployment, state):
    infos = deployment.infos()
    workers = {node["NodeID"] for node in ray.nodes() if node["Alive"] and node["Resources"].get("sandbox")}
    assert {info["node_id"] for info in infos} == workers and len(infos) == 3
    assert len({info["url"] for info in infos}) == 3
    pool = deployment.pool()
    views = [pool.request_step(step(f"spread-{index}")) for index in range(3)]
    assert {view.replica for view in views} == set(deployment.urls())
    done = [pool.wait_step(view, timeout_s=180) for view in views]
    assert all(view.status == "done" for view in done)
    state["finished"] = done[0]


def test_the_trainer_and_the_shell_find_the_deployment_by_ray_address(cluster, deployment, tmp_path):
    settings = parse_arguments(["--out", str(tmp_path), "--model-dir", str(tmp_path), "--base-model", "base",
                                "--vllm-url", "http://127.0.0.1:1", "--ray-address", cluster.address])  # fmt: skip
    assert settings.ray_address == cluster.address and settings.rollout.steps_per_iteration == 2
    pool = ReplicaPool.from_ray(cluster.address)
    assert sorted(pool.clients) == sorted(deployment.urls())
    report = shell("status", "--address", cluster.address)
    assert sorted(info["url"] for info in report["replicas"]) == sorted(deployment.urls())


def test_the_engine_adapters_play_steps_through_the_ray_address(cluster, deployment):
    steps = SharedSteps(StepSettings(
        services=[], inference={"kind": "openai-chat", "base_url": MODEL_URL}, ray_address=cluster.address,
        group_size=2, environment="inkwell", strategy="direct", run_name="adapter",
    ))  # fmt: skip
    outcome = asyncio.run(steps.play(steps.request("row-0", 0, "quick", 1)))
    assert outcome.failure is None, outcome.failure
    samples = outcome.samples
    assert samples[0].role == "proposer" and {sample.policy_version for sample in samples} == {"quick"}


def test_a_killed_replica_is_started_again_and_still_serves_its_results(deployment, state):
    finished = state["finished"]
    before = next(info for info in deployment.infos() if info["url"] == finished.replica)
    pool = deployment.pool()
    client = ServiceClient(finished.replica)
    in_flight = client.request_step(step("killed-in-flight", model="slow"))
    until(lambda: client.get_step(in_flight.step_id).status == "running", what="the slow step running")
    # The service process itself (the guard's child) dies, as under the OOM killer: its guard ends the rest
    # of the group and exits, and the supervisor starts a new group.
    (service,) = psutil.Process(before["pgid"]).children()
    service.send_signal(signal.SIGKILL)
    until(lambda: not group_alive(before["pgid"]), 30, "the killed replica's group gone")

    def restarted():
        info = next(info for info in deployment.infos() if info["node_id"] == before["node_id"])
        return info if info["restarts"] >= 1 and info["running"] else None

    after = until(restarted, 120, "the replica started again")
    state["groups"].add(after["pgid"])
    assert after["pgid"] != before["pgid"] and after["url"] == before["url"]
    # The finished result comes from the store the replica kept; the step in flight resumes there.
    assert ServiceClient(after["url"]).get_step(finished.step_id).result == finished.result
    assert pool.wait_step(in_flight, timeout_s=240).status == "done"


def test_an_unreachable_ray_address_is_one_line():
    with pytest.raises(DeploymentError) as raised:
        deploy("127.0.0.1:1", config=CONFIG, command=CLI)
    assert str(raised.value).startswith("Ray at 127.0.0.1:1 does not answer:")
    assert "\n" not in str(raised.value)


def test_an_exhausted_port_range_is_one_line_and_leaves_nothing(cluster, deployment, tmp_path):
    port = int(deployment.alive_urls()[0].rsplit(":", 1)[1])
    with pytest.raises(DeploymentError) as raised:
        deploy(cluster.address, name="tight", node_resource="sandbox", replicas=1, config=CONFIG, command=CLI,
               host="127.0.0.1", ports=(port, port), directory=str(tmp_path))  # fmt: skip
    assert f"no free port in {port}-{port}" in str(raised.value) and "\n" not in str(raised.value)
    actors = ray.util.list_named_actors(all_namespaces=True)
    assert [actor for actor in actors if actor["name"].startswith("tight-")] == []


def test_a_replica_that_never_becomes_healthy_is_one_line_and_leaves_nothing(cluster, tmp_path):
    marker = f"never-healthy-{uuid.uuid4().hex[:8]}"
    with pytest.raises(DeploymentError) as raised:
        deploy(cluster.address, name="mute", node_resource="sandbox", replicas=1, config=CONFIG,
               command=[sys.executable, "-c", "import time; time.sleep(600)", marker], host="127.0.0.1",
               ports=(21800, 21899), directory=str(tmp_path), health_timeout_s=3)  # fmt: skip
    message = str(raised.value)
    assert "did not answer /v1/health within 3 s" in message and "\n" not in message
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and marker in _cmdline(pid)]
    assert left == []


def test_a_node_lost_mid_iteration_loses_and_duplicates_nothing(cluster, deployment, state):
    # As the trainer does with --ray-address: the pool found by address, the rollout stage's collect.
    pool = ReplicaPool.from_ray(cluster.address)
    settings = RolloutSettings(
        inference={"kind": "openai-chat", "base_url": MODEL_URL, "model": "slow"}, steps_per_iteration=3,
        group_size=2, environment="inkwell", strategy="direct", run_name="lost-node",
    )  # fmt: skip
    outcome: dict = {}
    iteration = threading.Thread(target=lambda: outcome.update(batch=collect(pool, settings, 1, "v1", 1)))
    iteration.start()
    until(lambda: len(pool.requests) + len(pool.delivered) == 3, 60, "three steps requested")
    infos = deployment.infos()
    victim = next(info for info in infos
                  if ServiceClient(info["url"]).stats().get("in_flight", 0) > 0)  # fmt: skip
    node = next(node for node in cluster.list_all_nodes() if node.node_id == victim["node_id"])
    cluster.remove_node(node)
    iteration.join(timeout=400)
    assert not iteration.is_alive()
    batch = outcome["batch"]
    assert batch.failed_steps == []
    request_ids = [view.request_id for view in batch.steps]
    assert sorted(request_ids) == [f"lost-node-i1-s{index}" for index in range(3)]
    sample_ids = [sample.sample_id for sample in batch.samples]
    assert len(sample_ids) == len(set(sample_ids)) > 0
    assert victim["url"] in pool.lost and pool.resubmitted
    assert all(view.replica != victim["url"] for view in batch.steps)
    until(lambda: not group_alive(victim["pgid"]), 60, "the lost replica's process group gone")


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return ""
