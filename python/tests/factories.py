"""Factories for rollout.v1 records and a stand-in of `swe-selfplay serve` speaking its HTTP contract (a
real HTTP server on 127.0.0.1), for tests that must not wait for a real service's sandboxes."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def record(sample_id: str = "e1-s0", *, role: str = "solver", group_id: str = "g1", reward: float | None = 1.0,
           prompt: int = 3, sampled: int = 2, policy_version: str = "base", turn_models: list | None = None,
           policy_step: int | None = None, **overrides: Any) -> dict[str, Any]:
    tokens = list(range(10, 10 + prompt + sampled + 1))
    mask = [0] * prompt + [1] * sampled + [0]
    logprobs = [0.0] * prompt + [-0.5] * sampled + [0.0]
    meta: dict[str, Any] = {"turn_models": turn_models if turn_models is not None else [policy_version]}
    if policy_step is not None:
        meta["policy_step"] = policy_step
    base = {
        "schema": "rollout.v1", "sample_id": sample_id, "group_id": group_id, "episode_id": sample_id.rsplit("-", 1)[0],
        "role": role, "policy_version": policy_version, "sampling": {"model": policy_version, "temperature": 1,
                                                                     "top_p": 1},
        "tokens": tokens, "prompt_len": prompt, "loss_mask": mask, "logprobs": logprobs, "reward": reward,
        "status": "completed", "meta": meta,
    }
    base.update(overrides)
    return base


def step_samples(step: str, solver_rewards: list[float], version: str = "base") -> list[dict[str, Any]]:
    samples = [record(f"{step}p-s0", role="proposer", group_id=f"{step}-proposer", reward=0.2,
                      policy_version=version)]
    for index, reward in enumerate(solver_rewards):
        samples.append(record(f"{step}s{index}-s0", group_id=f"{step}-solvers", reward=reward, policy_version=version))
    return samples


class StandInService:
    """Steps finish at once with canned samples; request ids are idempotent; capacity gives 429s."""

    def __init__(self, solver_rewards: list[float] | None = None, capacity: int = 100, fail_requests: set | None = None,
                 vanish_after_posts: int | None = None, hold: bool = False, samples_for: Any = None):
        """`hold`: steps stay running until cancelled (DELETE); `samples_for(body, step_id)`: the samples
        of a step instead of the canned ones."""
        self.solver_rewards = [1.0, -1.0] if solver_rewards is None else solver_rewards
        self.capacity = capacity
        self.fail_requests = fail_requests or set()
        self.steps: dict[str, dict[str, Any]] = {}
        self.by_request: dict[str, str] = {}
        self.posts: list[dict[str, Any]] = []
        self.acked: list[str] = []
        self.rejections = 0
        self.vanish_after_posts = vanish_after_posts
        self.in_flight = 0
        self.hold = hold
        self.samples_for = samples_for
        self.deleted: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                path = urllib.parse.urlparse(self.path).path
                if path == "/v1/health":
                    return self.send(200, {"status": "ok"})
                if path == "/v1/stats":
                    return self.send(200, {"replica_id": "r", "queue": {"depth": len(owner.steps) % 3,
                                                                       "capacity": owner.capacity},
                                           "in_flight": owner.in_flight})
                parts = path.split("/")
                if len(parts) >= 4 and parts[2] == "steps":
                    step = owner.steps.get(parts[3])
                    if step is None:
                        return self.send(404, {"error": {"code": "not-found", "message": "no such step"}})
                    if step["status"] == "running" and "wait=" in self.path:
                        time.sleep(0.05)
                    if len(parts) == 5 and parts[4] == "events":
                        self.send_response(200)
                        self.send_header("content-type", "text/event-stream")
                        self.end_headers()
                        for event, data in (("progress", {"stage": "proposer"}), ("done", {"status": step["status"]})):
                            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                        return None
                    return self.send(200, step)
                return self.send(404, {"error": {"code": "not-found", "message": path}})

            def do_POST(self) -> None:  # noqa: N802
                path = urllib.parse.urlparse(self.path).path
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if path.endswith("/ack"):
                    owner.acked.append(path.split("/")[3])
                    return self.send(200, {"acknowledged": True})
                if path != "/v1/steps":
                    return self.send(404, {"error": {"code": "not-found", "message": path}})
                if not isinstance(body.get("request_id"), str):
                    return self.send(400, {"error": {"code": "invalid-body", "message": "must be string",
                                                     "path": "/request_id"}})
                owner.posts.append(body)
                known = owner.by_request.get(body["request_id"])
                if known:
                    return self.send(200, {"step_id": known, "request_id": body["request_id"]})
                if len(owner.steps) >= owner.capacity:
                    owner.rejections += 1
                    return self.send(429, {"error": {"code": "queue-full", "message": "full"}}, {"retry-after": "0"})
                step_id = f"step-{len(owner.steps) + 1}"
                owner.by_request[body["request_id"]] = step_id
                version = body["policy_version"]
                failed = body["request_id"] in owner.fail_requests
                owner.steps[step_id] = {
                    "step_id": step_id, "request_id": body["request_id"], "policy_version": version,
                    "policy_step": body.get("policy_step"),
                    "status": "failed" if failed else "running" if owner.hold else "done",
                    "reason": "proposer episode failed" if failed else None,
                    "result": None if failed else {
                        "artifact_id": "a" * 8, "valid": True, "validation": {}, "solve_rate": 0.5,
                        "samples": owner.samples_for(body, step_id) if owner.samples_for else
                        step_samples(step_id, owner.solver_rewards, version), "episodes": []},
                }
                self.send(202, {"step_id": step_id, "request_id": body["request_id"]})
                if owner.vanish_after_posts is not None and len(owner.posts) >= owner.vanish_after_posts:
                    threading.Thread(target=owner.close, daemon=True).start()
                return None

            def do_DELETE(self) -> None:  # noqa: N802
                step = owner.steps.get(self.path.split("/")[3])
                owner.deleted.append(self.path.split("/")[3])
                if step:
                    step["status"] = "cancelled"
                return self.send(200, {"status": "cancelled"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
