"""The supervising actor of one node's replica: starts `swe-selfplay serve` in a process group of its own
(led by swe_selfplay.ray.guard) on a port from the configured range, waits for /v1/health, starts it again
when it dies (same port and store, so finished results are still served), and ends the whole group on stop.

The class is plain Python; swe_selfplay.ray.deployment makes it a Ray actor pinned to its node."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SweSelfplayError


class DeploymentError(SweSelfplayError):
    """A deployment that cannot start or be reached; the message is one line saying what and where."""


@dataclass
class ReplicaSpec:
    """What every node's replica is started with (shipped to the node with the actor)."""

    #: The deployment's name: actor names, the store directory and logs derive from it.
    name: str
    #: The service's own configuration (what `serve --config` reads: a dict, or a YAML/JSON file's text),
    #: written to a file on every node. Its `store` is replaced by one in the node's directory.
    config: dict[str, Any] | str = field(default_factory=dict)
    #: How to call the CLI on the node; `serve ...` is appended.
    command: list[str] = field(default_factory=lambda: ["swe-selfplay"])
    #: Inclusive port range the replica listens on (the first free one on its node).
    ports: tuple[int, int] = (8790, 8889)
    #: The address the replica listens on and is reached at; None: the node's IP (then a token is needed).
    host: str | None = None
    #: Directory on the node for the replica's store, config and log; None: ~/.cache/swe-selfplay/ray.
    directory: str | None = None
    #: The bearer token, given to the service in its environment (never written to a file).
    token: str | None = None
    health_timeout_s: float = 120.0
    #: Extra environment for the service.
    env: dict[str, str] = field(default_factory=dict)
    #: Seconds between SIGTERM and SIGKILL to the group on stop.
    stop_grace_s: float = 10.0


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReplicaSupervisor:
    def __init__(self, spec: dict[str, Any], node_id: str, node_ip: str):
        self.spec = ReplicaSpec(**{**spec, "ports": tuple(spec.get("ports", (8790, 8889)))})
        self.node_id = node_id
        self.host = self.spec.host or node_ip
        base = Path(self.spec.directory or Path.home() / ".cache" / "swe-selfplay" / "ray").expanduser()
        # Per node: nodes that share a file system (one machine, NFS homes) keep separate stores.
        self.directory = base / f"{self.spec.name}-{node_id[:12]}"
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.spec.config
        self.config_path = self.directory / "serve.yaml"
        self.config_path.write_text(config if isinstance(config, str) else json.dumps(config))
        self.store = str(self.directory / "store.db")
        self.log_path = self.directory / "serve.log"
        self.port: int | None = None
        self._port_lock: Any = None
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.last_error = ""
        self._stopping = False
        self._lock = threading.Lock()
        self._monitor: threading.Thread | None = None

    # -- called through Ray ------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Starts the replica and waits until it is healthy; DeploymentError (one line) when it cannot."""
        with self._lock:
            self._claim_port()
            self._launch()
        self._monitor = threading.Thread(target=self._watch, name="replica-monitor", daemon=True)
        self._monitor.start()
        return self.info()

    def info(self) -> dict[str, Any]:
        process = self.process
        return {
            "name": self.spec.name,
            "node_id": self.node_id,
            "url": self.url,
            "pid": process.pid if process else None,
            "pgid": process.pid if process else None,
            "running": bool(process and process.poll() is None),
            "restarts": self.restarts,
            "store": self.store,
            "log": str(self.log_path),
            "last_error": self.last_error,
        }

    def stop(self) -> dict[str, Any]:
        """Ends the replica's whole process group: SIGTERM, then SIGKILL after the grace period."""
        self._stopping = True
        with self._lock:
            if self.process is not None:
                self._end_group(self.process, self.spec.stop_grace_s)
        return self.info()

    # -- inside the actor --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _claim_port(self) -> None:
        """The first port of the range that no other replica on this machine holds and nothing listens on.

        A lock file per port, held for the actor's life, keeps replicas of one machine off each other's
        port while a service is still starting."""
        low, high = self.spec.ports
        locks = Path(tempfile.gettempdir()) / "swe-selfplay-ray-ports"
        locks.mkdir(exist_ok=True)
        for port in range(low, high + 1):
            handle = open(locks / f"{port}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            if _port_free(self.host, port):
                self.port, self._port_lock = port, handle
                return
            handle.close()
        raise DeploymentError(
            f"replica {self.spec.name} on node {self.node_id[:12]} ({self.host}): no free port in {low}-{high}"
        )

    def _launch(self) -> None:
        command = [
            sys.executable, "-m", "swe_selfplay.ray.guard", str(os.getpid()), "--",
            *self.spec.command, "serve", "--config", str(self.config_path), "--store", self.store,
            "--listen", f"{self.host}:{self.port}",
        ]  # fmt: skip
        env = {**os.environ, **self.spec.env, "SWE_SELFPLAY_LOG": self.spec.env.get("SWE_SELFPLAY_LOG", "warn")}
        if self.spec.token:
            env["SWE_SELFPLAY_TOKEN"] = self.spec.token
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
            )
        self.process = process
        try:
            self._wait_healthy(process)
        except DeploymentError as error:
            self.last_error = str(error)
            self._end_group(process, 2.0)
            raise

    def _wait_healthy(self, process: subprocess.Popen[bytes]) -> None:
        where = f"replica {self.spec.name} on node {self.node_id[:12]} at {self.url}"
        deadline = time.monotonic() + self.spec.health_timeout_s
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                raise DeploymentError(f"{where} exited with code {code} before answering /v1/health: "
                                      f"{self._last_log_line()}")
            try:
                with urllib.request.urlopen(self.url + "/v1/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise DeploymentError(f"{where} did not answer /v1/health within {self.spec.health_timeout_s:g} s "
                              f"(last log line: {self._last_log_line()})")

    def _last_log_line(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        return lines[-1][:300] if lines else "nothing logged"

    def _watch(self) -> None:
        """Starts the replica again whenever it dies, with a growing pause after failed starts."""
        pause = 1.0
        while not self._stopping:
            time.sleep(0.5)
            with self._lock:
                process = self.process
                if self._stopping or process is None or process.poll() is None:
                    continue
                self.restarts += 1
                self.last_error = f"exited with code {process.returncode}: {self._last_log_line()}"
                self._end_group(process, 0.5)
                try:
                    self._launch()
                    pause = 1.0
                except DeploymentError:
                    pass
            if self.process is not None and self.process.poll() is not None:
                time.sleep(pause)
                pause = min(pause * 2, 30.0)

    @staticmethod
    def _end_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
        group = process.pid
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace_s
        while _group_alive(group) and time.monotonic() < deadline:
            process.poll()
            time.sleep(0.1)
        if _group_alive(group):
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()


__all__ = ["DeploymentError", "ReplicaSpec", "ReplicaSupervisor"]
