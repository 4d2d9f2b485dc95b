"""An asyncio client for `swe-selfplay serve` (aiohttp), for the engine adapters: an engine plays hundreds of
steps at once from one event loop, and a long-poll must not hold a thread each.

It speaks the same contract as `client.ServiceClient` (same request and view types, same retries: refused or
reset connections, timeouts, 5xx, and 429 with Retry-After are retried with backoff; a 4xx is
ServiceRequestError) and adds nothing to it. A session per call: engines run their agent loops in more
than one event loop over a process's life, and a call is small beside the step it waits for."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .client import RetryPolicy, StepRequest, StepView, _request_error, load
from .errors import ServiceRequestError, ServiceUnavailable, StepFailed


def _aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("swe_selfplay.aio needs aiohttp (pip install 'swe-selfplay[engines]')") from error
    return aiohttp


@dataclass
class AsyncServiceClient:
    """One service replica. `base_url` is its root, e.g. http://127.0.0.1:8787."""

    base_url: str
    token: str | None = None
    timeout_s: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "/v1/stats")

    async def request_step(self, request: StepRequest) -> StepView:
        """Posts a step; the same request_id again returns the same step (the service is idempotent)."""
        body = await self._call("POST", "/v1/steps", request.body())
        return StepView.of({"status": "queued", "policy_version": request.policy_version, **body}, self.base_url)

    async def get_step(self, step_id: str, wait_s: float | None = None) -> StepView:
        query = f"?wait={int(wait_s)}" if wait_s else ""
        body = await self._call("GET", f"/v1/steps/{urllib.parse.quote(step_id)}{query}",
                                timeout=self.timeout_s + (wait_s or 0))
        return StepView.of(body, self.base_url)

    async def wait_step(self, step_id: str, timeout_s: float = 3600.0, poll_s: float = 30.0) -> StepView:
        """Long-polls until the step is final; StepFailed when it failed or was cancelled, TimeoutError when
        it is not final after `timeout_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"step {step_id} on {self.base_url} not final after {timeout_s:g} s")
            view = await self.get_step(step_id, wait_s=max(1.0, min(poll_s, remaining)))
            if view.final:
                if view.status != "done":
                    raise StepFailed(step_id, view.status, view.reason)
                return view

    async def cancel(self, step_id: str) -> dict[str, Any]:
        return await self._call("DELETE", f"/v1/steps/{urllib.parse.quote(step_id)}")

    async def ack(self, step_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/v1/steps/{urllib.parse.quote(step_id)}/ack", {})

    # -- transport -----------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> dict[str, Any]:
        aiohttp = _aiohttp()
        url = self.base_url + path
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        cause = ""
        for attempt in range(self.retry.attempts):
            wait = self.retry.delay(attempt)
            try:
                async with aiohttp.ClientSession(headers=headers) as session, session.request(
                    method, url, json=body, timeout=aiohttp.ClientTimeout(total=timeout or self.timeout_s)
                ) as response:
                    text = await response.text()
                    if response.status < 400:
                        return json.loads(text) if text else {}
                    if response.status == 429 or response.status >= 500:
                        cause = f"HTTP {response.status}: {text[:200]}"
                        retry_after = response.headers.get("retry-after", "")
                        if response.status == 429 and retry_after.strip().isdigit():
                            wait = float(retry_after)
                    else:
                        raise _request_error(url, response.status, text)
            except ServiceRequestError:
                raise
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                cause = f"{type(error).__name__}: {error}"
            if attempt + 1 < self.retry.attempts:
                await asyncio.sleep(wait)
        raise ServiceUnavailable(url, self.retry.attempts, cause)


class AsyncReplicaPool:
    """Several services serving one trainer: each step goes to the least loaded replica that answers."""

    def __init__(self, clients: list[AsyncServiceClient]):
        if not clients:
            raise ValueError("a replica pool needs at least one service URL")
        self.clients = {client.base_url: client for client in clients}

    @classmethod
    def of_urls(cls, urls: list[str], token: str | None = None, **options: Any) -> "AsyncReplicaPool":
        return cls([AsyncServiceClient(url, token=token, **options) for url in urls])

    async def pick(self) -> AsyncServiceClient:
        """The replica with the lowest load; a replica whose stats fail is skipped; all failing raises."""
        urls = list(self.clients)
        answers = await asyncio.gather(*(self.clients[url].stats() for url in urls), return_exceptions=True)
        loads = [(load(answer), url) for url, answer in zip(urls, answers) if isinstance(answer, dict)]
        if not loads:
            failures = "; ".join(str(answer) for answer in answers)
            raise ServiceUnavailable(", ".join(urls), len(urls), failures)
        return self.clients[min(loads)[1]]

    async def request_step(self, request: StepRequest) -> StepView:
        return await (await self.pick()).request_step(request)

    def client_for(self, view: StepView) -> AsyncServiceClient:
        return self.clients[view.replica]

    async def wait_step(self, view: StepView, timeout_s: float = 3600.0) -> StepView:
        return await self.client_for(view).wait_step(view.step_id, timeout_s=timeout_s)

    async def ack(self, view: StepView) -> None:
        await self.client_for(view).ack(view.step_id)

    async def cancel(self, view: StepView) -> None:
        await self.client_for(view).cancel(view.step_id)
