"""`serve` replicas on a Ray cluster: one supervising actor per node starts, health-checks and restarts the
service process (swe_selfplay.ray.supervisor), a deployment places and finds them (swe_selfplay.ray.deployment),
and a pool over them re-submits a lost replica's steps elsewhere (swe_selfplay.ray.pool). Needs `ray`
(pip install 'swe-selfplay[ray]'); `python -m swe_selfplay.ray` deploys and tears down from a shell."""

from .deployment import DEFAULT_NAME, NAMESPACE, Deployment, connect, deploy, init
from .supervisor import DeploymentError, ReplicaSpec

__all__ = ["DEFAULT_NAME", "NAMESPACE", "Deployment", "DeploymentError", "ReplicaSpec", "connect", "deploy", "init"]
