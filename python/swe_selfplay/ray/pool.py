"""A ReplicaPool over a Ray deployment: its replicas' URLs come from their supervising actors, and a step
whose replica (or node) is lost is requested again elsewhere under the same request id, so the trainer
gets every step exactly once and no sample twice.

A replica that stops answering is asked about through its actor: alive (the supervisor is starting it
again on the same store) → wait on; lost (actor or node dead) → re-submit to the least loaded live one."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

from ..client import ReplicaPool, RetryPolicy, ServiceClient, StepRequest, StepView
from ..errors import ServiceUnavailable
from .deployment import Deployment

log = logging.getLogger("swe_selfplay.ray")


class ClusterPool(ReplicaPool):
    """ReplicaPool over a deployment's live replicas; keeps each unfinished request to submit it again."""

    def __init__(self, deployment: Deployment, token: str | None = None, **options: Any):
        self.deployment = deployment
        self.token = token
        self.options = {"retry": RetryPolicy(attempts=4, base_delay_s=0.5, max_delay_s=4.0), **options}
        self._lock = threading.Lock()
        self.requests: dict[str, StepRequest] = {}
        self.delivered: set[str] = set()
        self.lost: dict[str, str] = {}
        self.resubmitted: dict[str, list[str]] = {}
        super().__init__(self._clients())

    def _clients(self) -> list[ServiceClient]:
        urls = self.deployment.alive_urls()
        if not urls:
            raise ServiceUnavailable(f"deployment {self.deployment.name}", 0, "no live replica")
        return [ServiceClient(url, token=self.token, **self.options) for url in urls]

    def refresh(self) -> None:
        """The live replicas again (after a loss, or a restart that moved a replica to another port)."""
        clients = self._clients()
        with self._lock:
            self.clients = {client.base_url: client for client in clients}

    def client_for(self, view: StepView) -> ServiceClient:
        with self._lock:
            client = self.clients.get(view.replica)
        return client or ServiceClient(view.replica, token=self.token, **self.options)

    def request_step(self, request: StepRequest) -> StepView:
        with self._lock:
            self.requests[request.request_id] = request
        return super().request_step(request)

    def wait_step(self, view: StepView, timeout_s: float = 3600.0) -> StepView:
        """The step's final view, from wherever it ended up; each request id is delivered once."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"step {view.request_id} not final after {timeout_s} s (last on {view.replica})")
            try:
                done = self.client_for(view).wait_step(view.step_id, timeout_s=remaining)
            except ServiceUnavailable as error:
                view = self._recover(view, error)
                continue
            with self._lock:
                if view.request_id in self.delivered:
                    raise RuntimeError(f"request {view.request_id} was already delivered")
                self.delivered.add(view.request_id)
                self.requests.pop(view.request_id, None)
            return done

    def _recover(self, view: StepView, error: ServiceUnavailable) -> StepView:
        state, detail = self.deployment.state(view.replica)
        if state == "alive":
            if detail != view.replica:
                self.refresh()
            log.info("replica %s did not answer (%s); its supervisor keeps it, waiting on", view.replica, error)
            return dataclasses.replace(view, replica=detail)
        with self._lock:
            self.lost[view.replica] = detail
            request = self.requests.get(view.request_id)
        if request is None:
            raise error
        self.refresh()
        moved = super().request_step(request)
        with self._lock:
            self.resubmitted.setdefault(view.request_id, []).append(moved.replica)
        log.warning("replica %s lost (%s): step %s requested again on %s", view.replica, detail,
                    view.request_id, moved.replica)
        return moved

    def ack(self, view: StepView) -> None:
        try:
            self.client_for(view).ack(view.step_id)
        except ServiceUnavailable:
            if self.deployment.state(view.replica)[0] == "alive":
                raise
