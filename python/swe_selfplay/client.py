"""A typed client for `swe-selfplay serve` (plain HTTP, standard library only), and a pool that balances
steps across replicas by their `/v1/stats`.

Transient failures (refused or reset connections, timeouts, 5xx, 429 with Retry-After) are retried with
backoff; a service that stays silent ends in ServiceUnavailable naming its URL, the attempts and the last
cause. A 4xx is ServiceRequestError with the service's error code and the bad field's path."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal, Mapping, TypedDict

from .errors import ServiceRequestError, ServiceUnavailable, StepFailed

StepStatus = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL_STATUSES = ("done", "failed", "cancelled")


class Inference(TypedDict, total=False):
    """Where a role's policy is served: `{kind: vllm|sglang|openai-chat, base_url, model, ...}` or `{kind: builtin}`."""

    kind: str
    base_url: str
    model: str
    tool_call_format: str
    api_key_env: str


class Sampling(TypedDict, total=False):
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    seed: int


@dataclass
class StepRequest:
    request_id: str
    inference: Inference
    policy_version: str
    policy_step: int | None = None
    environment: str | None = None
    strategy: str | None = None
    group_size: int | None = None
    solver_inference: Inference | None = None
    sampling: Sampling | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "request_id": self.request_id,
            "inference": dict(self.inference),
            "policy_version": self.policy_version,
        }
        for name in ("policy_step", "environment", "strategy", "group_size", "solver_inference", "sampling"):
            value = getattr(self, name)
            if value is not None:
                body[name] = dict(value) if isinstance(value, dict) else value
        return body


@dataclass
class StepView:
    """A step as the service reports it; `result` is set once it is done."""

    step_id: str
    request_id: str
    status: StepStatus
    policy_version: str
    policy_step: int | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None
    #: The replica that holds the step (its base URL).
    replica: str = ""

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def of(cls, body: Mapping[str, Any], replica: str) -> "StepView":
        return cls(
            step_id=str(body["step_id"]),
            request_id=str(body.get("request_id", "")),
            status=body.get("status", "queued"),
            policy_version=str(body.get("policy_version", "")),
            policy_step=body.get("policy_step"),
            reason=body.get("reason"),
            result=body.get("result"),
            replica=replica,
        )


@dataclass
class RetryPolicy:
    attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 15.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**attempt) * (0.75 + random.random() / 2)


@dataclass
class ServiceClient:
    """One service replica. `base_url` is its root, e.g. http://127.0.0.1:8787."""

    base_url: str
    token: str | None = None
    timeout_s: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    # -- the endpoints -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/v1/health")[1]

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/v1/stats")[1]

    def request_step(self, request: StepRequest) -> StepView:
        """Posts a step; the same request_id again returns the same step (the service is idempotent)."""
        _, body = self._call("POST", "/v1/steps", request.body())
        return StepView.of({"status": "queued", "policy_version": request.policy_version, **body}, self.base_url)

    def get_step(self, step_id: str, wait_s: float | None = None) -> StepView:
        query = f"?wait={int(wait_s)}" if wait_s else ""
        timeout = self.timeout_s + (wait_s or 0)
        _, body = self._call("GET", f"/v1/steps/{urllib.parse.quote(step_id)}{query}", timeout=timeout)
        return StepView.of(body, self.base_url)

    def wait_step(self, step_id: str, timeout_s: float = 3600.0, poll_s: float = 30.0) -> StepView:
        """Long-polls until the step is final; StepFailed when it failed or was cancelled."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"step {step_id} on {self.base_url} not final after {timeout_s} s")
            view = self.get_step(step_id, wait_s=max(1.0, min(poll_s, remaining)))
            if view.final:
                if view.status != "done":
                    raise StepFailed(step_id, view.status, view.reason)
                return view

    def events(self, step_id: str) -> Iterator[tuple[str, Any]]:
        """The step's server-sent events as (event, data) pairs, until the `done` event."""
        request = self._request("GET", f"/v1/steps/{urllib.parse.quote(step_id)}/events")
        request.add_header("accept", "text/event-stream")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            event, data = "message", []
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith(":"):
                    continue
                if line == "":
                    if data:
                        text = "\n".join(data)
                        try:
                            payload: Any = json.loads(text)
                        except json.JSONDecodeError:
                            payload = text
                        yield event, payload
                        if event == "done":
                            return
                    event, data = "message", []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())

    def cancel(self, step_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/v1/steps/{urllib.parse.quote(step_id)}")[1]

    def ack(self, step_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/steps/{urllib.parse.quote(step_id)}/ack", {})[1]

    # -- transport -----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None) -> urllib.request.Request:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if self.token:
            request.add_header("authorization", f"Bearer {self.token}")
        return request

    def _call(
        self, method: str, path: str, body: Any = None, timeout: float | None = None
    ) -> tuple[int, dict[str, Any]]:
        url = self.base_url + path
        cause = ""
        for attempt in range(self.retry.attempts):
            wait = self.retry.delay(attempt)
            try:
                with urllib.request.urlopen(
                    self._request(method, path, body), timeout=timeout or self.timeout_s
                ) as response:
                    text = response.read().decode("utf-8")
                    return response.status, json.loads(text) if text else {}
            except urllib.error.HTTPError as error:
                text = error.read().decode("utf-8", "replace")
                if error.code == 429 or error.code >= 500:
                    cause = f"HTTP {error.code}: {text[:200]}"
                    retry_after = error.headers.get("retry-after")
                    if error.code == 429 and retry_after and retry_after.strip().isdigit():
                        wait = float(retry_after)
                else:
                    raise _request_error(url, error.code, text) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
                reason = getattr(error, "reason", error)
                cause = f"{type(reason).__name__}: {reason}"
            if attempt + 1 < self.retry.attempts:
                self.sleep(wait)
        raise ServiceUnavailable(url, self.retry.attempts, cause)


def _request_error(url: str, status: int, text: str) -> ServiceRequestError:
    try:
        error = json.loads(text).get("error", {})
    except (json.JSONDecodeError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    return ServiceRequestError(
        url, status, str(error.get("code", "http-error")), str(error.get("message", text[:500])), error.get("path")
    )


def load(stats: Mapping[str, Any]) -> float:
    """How busy a replica is, from its /v1/stats: queued plus in-flight work over its queue capacity."""
    queue = stats.get("queue") or {}
    depth = float(queue.get("depth", 0) or 0)
    capacity = float(queue.get("capacity", 0) or 0)
    in_flight = float(stats.get("in_flight", 0) or 0)
    return (depth + in_flight) / capacity if capacity > 0 else depth + in_flight


class ReplicaPool:
    """Several services serving one trainer: each step goes to the least loaded replica that answers."""

    def __init__(self, clients: list[ServiceClient]):
        if not clients:
            raise ValueError("a replica pool needs at least one service URL")
        self.clients = {client.base_url: client for client in clients}

    @classmethod
    def of_urls(cls, urls: list[str], token: str | None = None, **options: Any) -> "ReplicaPool":
        return cls([ServiceClient(url, token=token, **options) for url in urls])

    @classmethod
    def from_ray(
        cls, address: str | None, deployment: str = "swe-selfplay", token: str | None = None, **options: Any
    ) -> "ReplicaPool":
        """The replicas of a `swe_selfplay.ray` deployment on the Ray cluster at `address` (needs ray); a step
        whose replica or node is lost is requested again on another replica under the same request id."""
        from .ray import connect

        return connect(address, deployment).pool(token=token, **options)

    def pick(self) -> ServiceClient:
        """The replica with the lowest load; a replica whose stats fail is skipped; all failing raises."""
        loads: list[tuple[float, str]] = []
        failures: list[str] = []
        for url, client in self.clients.items():
            try:
                loads.append((load(client.stats()), url))
            except ServiceUnavailable as error:
                failures.append(str(error))
        if not loads:
            raise ServiceUnavailable(", ".join(self.clients), len(self.clients), "; ".join(failures))
        return self.clients[min(loads)[1]]

    def request_step(self, request: StepRequest) -> StepView:
        return self.pick().request_step(request)

    def client_for(self, view: StepView) -> ServiceClient:
        return self.clients[view.replica]

    def wait_step(self, view: StepView, timeout_s: float = 3600.0) -> StepView:
        return self.client_for(view).wait_step(view.step_id, timeout_s=timeout_s)

    def ack(self, view: StepView) -> None:
        self.client_for(view).ack(view.step_id)
