"""Deploys `serve` replicas on a Ray cluster, one supervising actor per node (pinned by node affinity, 0
logical CPUs so the engine keeps them all), finds a running deployment by name, and tears it down.

Actors are detached and named `<name>-<node id prefix>` in the `swe-selfplay` namespace: a trainer started
later finds the replicas with `connect(address, name)`, and they outlive the driver that deployed them."""

from __future__ import annotations

import dataclasses
import logging
import socket
from dataclasses import dataclass
from typing import Any, Iterable

from .supervisor import DeploymentError, ReplicaSpec, ReplicaSupervisor

log = logging.getLogger("swe_selfplay.ray")
NAMESPACE = "swe-selfplay"
DEFAULT_NAME = "swe-selfplay"


def _ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise DeploymentError(f"Ray is not installed ({error}): pip install 'swe-selfplay[ray]'") from None
    return ray


def _check_reachable(address: str, timeout_s: float) -> None:
    """A plain TCP connect first: ray.init waits a long time on an address where nothing listens."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise DeploymentError(f"Ray address {address!r} is not host:port (or ray://host:port, or auto)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise DeploymentError(f"Ray at {address} does not answer: {error.strerror or error}") from None


def init(address: str | None, timeout_s: float = 10.0) -> Any:
    """Connects this process to the cluster at `address` (None or "auto": the local one) once."""
    ray = _ray()
    if address and address != "auto":
        _check_reachable(address, timeout_s)
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=address or "auto", namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DeploymentError(f"Ray at {address or 'auto'} cannot be joined: {first}") from None
    return ray


def _reason(error: BaseException) -> str:
    """The one-line reason inside a Ray error (a DeploymentError raised in the actor keeps its text)."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, DeploymentError):
        return str(cause)
    text = str(cause or error).strip()
    return text.splitlines()[-1] if text else type(error).__name__


@dataclass
class Replica:
    actor: Any
    actor_name: str
    node_id: str
    url: str = ""


class Deployment:
    """The replicas of one deployment: their URLs, their actors' state, a pool over them, teardown."""

    def __init__(self, name: str, replicas: list[Replica]):
        self.name = name
        self.replicas = replicas

    def urls(self) -> list[str]:
        return [replica.url for replica in self.replicas]

    def infos(self, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """Each replica's actor report (url, node, pgid, restarts); a lost one says `lost` and why."""
        ray = _ray()
        reports = []
        for replica in self.replicas:
            try:
                info = ray.get(replica.actor.info.remote(), timeout=timeout_s)
                replica.url = info["url"]
                reports.append(info)
            except Exception as error:  # the actor or its node is gone
                reports.append({"node_id": replica.node_id, "url": replica.url, "lost": _reason(error)})
        return reports

    def state(self, url: str, timeout_s: float = 30.0) -> tuple[str, str]:
        """("alive", current url) or ("lost", reason) for the replica that was at `url`."""
        ray = _ray()
        replica = next((replica for replica in self.replicas if replica.url == url), None)
        if replica is None:
            return "lost", f"{url} is not a replica of {self.name}"
        try:
            info = ray.get(replica.actor.info.remote(), timeout=timeout_s)
        except ray.exceptions.GetTimeoutError:
            return "alive", url
        except Exception as error:
            return "lost", _reason(error)
        replica.url = info["url"]
        return "alive", info["url"]

    def alive_urls(self) -> list[str]:
        return [info["url"] for info in self.infos() if "lost" not in info]

    def pool(self, token: str | None = None, **options: Any) -> Any:
        from .pool import ClusterPool

        return ClusterPool(self, token=token, **options)

    def teardown(self, timeout_s: float = 60.0) -> None:
        """Stops every replica (its whole process group), then removes its actor."""
        ray = _ray()
        pending = {replica.actor_name: replica.actor.stop.remote() for replica in self.replicas}
        for name, reference in pending.items():
            try:
                ray.get(reference, timeout=timeout_s)
            except Exception as error:  # a lost node took its replica with it
                log.info("replica %s: %s", name, _reason(error))
        for replica in self.replicas:
            ray.kill(replica.actor, no_restart=True)
        self.replicas = []


def _nodes(ray: Any, resource: str | None) -> list[dict[str, Any]]:
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    if resource:
        nodes = [node for node in nodes if node.get("Resources", {}).get(resource, 0) > 0]
    return sorted(nodes, key=lambda node: node["NodeID"])


def deploy(
    address: str | None = None,
    *,
    replicas: int | None = None,
    name: str = DEFAULT_NAME,
    node_resource: str | None = None,
    nodes: Iterable[str] | None = None,
    start_timeout_s: float | None = None,
    runtime_env: dict[str, Any] | None = None,
    **spec: Any,
) -> Deployment:
    """Starts one replica on each of `replicas` nodes (default: every node; with `node_resource`, only
    nodes that have it; or the given node ids) and waits until all answer /v1/health.

    `spec` holds ReplicaSpec's fields: config (the service's config, a dict), command, ports, host,
    directory, token, health_timeout_s, env. A replica that cannot start ends the whole deployment with
    DeploymentError naming it and why. The actors import swe_selfplay on their nodes: install it there, or
    ship it with `runtime_env={"py_modules": [swe_selfplay's directory]}`."""
    ray = init(address)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    replica_spec = ReplicaSpec(name=name, **spec)
    if nodes is not None:
        wanted = list(nodes)
        chosen = [node for node in _nodes(ray, None) if node["NodeID"] in wanted]
        if len(chosen) != len(wanted):
            raise DeploymentError(f"deployment {name}: nodes not alive in the cluster: "
                                  f"{sorted(set(wanted) - {node['NodeID'] for node in chosen})}")
    else:
        candidates = _nodes(ray, node_resource)
        count = len(candidates) if replicas is None else replicas
        if count < 1 or count > len(candidates):
            which = f"with resource {node_resource!r}" if node_resource else "alive"
            raise DeploymentError(f"deployment {name}: {count} replicas asked, {len(candidates)} nodes {which}")
        chosen = candidates[:count]
    taken = {actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)
             if actor.get("namespace") == NAMESPACE and actor["name"].startswith(f"{name}-")}
    if taken:
        raise DeploymentError(f"deployment {name} already runs on this cluster ({len(taken)} replicas): "
                              f"tear it down first (python -m swe_selfplay.ray teardown --name {name})")

    actor_class = ray.remote(ReplicaSupervisor)
    deployment = Deployment(name, [])
    fields = dataclasses.asdict(replica_spec)
    for node in chosen:
        node_id = node["NodeID"]
        actor_name = f"{name}-{node_id[:12]}"
        actor = actor_class.options(
            name=actor_name, namespace=NAMESPACE, lifetime="detached", num_cpus=0, max_restarts=0,
            max_concurrency=4, runtime_env=runtime_env,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
        ).remote(fields, node_id, node["NodeManagerAddress"])  # fmt: skip
        deployment.replicas.append(Replica(actor, actor_name, node_id))
    timeout = start_timeout_s or replica_spec.health_timeout_s + 120
    started = {replica.actor_name: replica.actor.start.remote() for replica in deployment.replicas}
    failure: str | None = None
    for replica in deployment.replicas:
        try:
            replica.url = ray.get(started[replica.actor_name], timeout=timeout)["url"]
        except Exception as error:
            failure = failure or _reason(error)
    if failure:
        deployment.teardown()
        raise DeploymentError(failure)
    log.info("deployment %s: %d replicas at %s", name, len(deployment.replicas), ", ".join(deployment.urls()))
    return deployment


def connect(address: str | None = None, name: str = DEFAULT_NAME) -> Deployment:
    """The running deployment `name` on the cluster at `address`; DeploymentError when it has no replica."""
    ray = init(address)
    names = sorted(actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)
                   if actor.get("namespace") == NAMESPACE and actor["name"].startswith(f"{name}-"))
    replicas = []
    for actor_name in names:
        try:
            actor = ray.get_actor(actor_name, namespace=NAMESPACE)
        except ValueError:
            continue
        replicas.append(Replica(actor, actor_name, ""))
    deployment = Deployment(name, replicas)
    infos = deployment.infos()
    for replica, info in zip(deployment.replicas, infos):
        replica.node_id = info.get("node_id", "")
    deployment.replicas = [replica for replica, info in zip(deployment.replicas, infos) if "lost" not in info]
    if not deployment.replicas:
        raise DeploymentError(f"no replica of deployment {name} runs on the Ray cluster at {address or 'auto'}")
    return deployment
