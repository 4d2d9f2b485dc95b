"""Held-out evaluation during training: every `--eval-every` iterations the version just produced is evaluated
on a frozen task set (`swe-selfplay eval make-set`) through a service's `POST /v1/eval`, and the figures join
the iteration's metrics (resolve rate, its Wilson 95 % interval, pass@k, per environment).

The service runs the evaluation with self-play's own episodes, sandboxes and grading; the same set, version and
sampling are one evaluation there, so a trainer restarted mid-evaluation continues it instead of starting over."""

from __future__ import annotations

import argparse
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class _Client(Protocol):
    base_url: str

    def _call(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> tuple[int, dict[str, Any]]: ...


class _Pool(Protocol):
    def pick(self) -> _Client: ...


class EvaluationFailed(RuntimeError):
    """The service ended the evaluation without figures (it failed or was interrupted)."""


@dataclass
class EvaluationSettings:
    task_set: dict[str, Any]
    every: int
    inference: dict[str, Any]
    attempts: int = 1
    sampling: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 3600.0
    poll_s: float = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--eval-set", help="a task set file (swe-selfplay eval make-set) to evaluate on")
    parser.add_argument("--eval-every", type=int, default=1, help="evaluate after every N-th iteration [1]")
    parser.add_argument("--eval-attempts", type=int, default=1, help="solver attempts per task [1]")
    parser.add_argument("--eval-timeout", type=float, default=3600.0, help="seconds to wait for one evaluation")


def settings_from(args: argparse.Namespace, inference: dict[str, Any],
                  sampling: dict[str, Any]) -> EvaluationSettings | None:
    """The evaluation settings of the command line, or None without --eval-set; bad values raise ValueError."""
    if not args.eval_set:
        return None
    if args.eval_every < 1:
        raise ValueError(f"--eval-every must be at least 1, got {args.eval_every}")
    if args.eval_attempts < 1:
        raise ValueError(f"--eval-attempts must be at least 1, got {args.eval_attempts}")
    path = Path(args.eval_set)
    try:
        task_set = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--eval-set {path}: {error}") from None
    if not isinstance(task_set, dict) or not task_set.get("tasks"):
        raise ValueError(f"--eval-set {path}: not a task set (no tasks)")
    return EvaluationSettings(task_set=task_set, every=args.eval_every, inference=dict(inference),
                              attempts=args.eval_attempts, sampling=dict(sampling), timeout_s=args.eval_timeout)


def due(settings: EvaluationSettings | None, iteration: int) -> bool:
    return settings is not None and iteration % settings.every == 0


def evaluate(pool: _Pool, settings: EvaluationSettings, policy_version: str,
             sleep: Any = time.sleep) -> dict[str, Any]:
    """Evaluates `policy_version` (the name vLLM serves it under) and returns the service's final view."""
    client = pool.pick()
    inference = {**settings.inference, "model": policy_version}
    body = {"task_set": settings.task_set, "attempts": settings.attempts, "inference": inference,
            "policy_version": policy_version, **({"sampling": settings.sampling} if settings.sampling else {})}
    _, view = client._call("POST", "/v1/eval", body)
    deadline = time.monotonic() + settings.timeout_s
    path = f"/v1/eval/{urllib.parse.quote(view['evaluation_id'])}"
    while view["status"] == "running":
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"evaluation {view['evaluation_id']} not done after {settings.timeout_s} s")
        wait = int(max(1, min(settings.poll_s, remaining)))
        _, view = client._call("GET", f"{path}?wait={wait}", timeout=60 + wait)
    if view["status"] != "completed":
        raise EvaluationFailed(f"evaluation {view['evaluation_id']} {view['status']}: {view.get('error')}")
    return view


def figures_metrics(view: dict[str, Any]) -> dict[str, Any]:
    """The iteration's `eval` metrics from a completed evaluation's view."""
    figures = view["figures"]
    return {
        "evaluation_id": view["evaluation_id"],
        "resolve_rate": figures["resolveRate"],
        "resolve_low": figures["interval"]["low"],
        "resolve_high": figures["interval"]["high"],
        "resolved": figures["resolved"],
        "attempts": figures["attempts"],
        "pass_at": {k: value for k, value in figures["passAtK"].items()},
        "by_environment": {name: entry["resolveRate"] for name, entry in figures["byEnvironment"].items()},
    }


def evaluate_iteration(settings: EvaluationSettings | None, pool: _Pool | None, iteration: int,
                       policy_version: str) -> dict[str, Any]:
    """The `eval` entry of an iteration's report: empty when no evaluation is due."""
    if not due(settings, iteration):
        return {}
    if pool is None:
        raise ValueError("--eval-set needs a --service to evaluate through")
    assert settings is not None
    return {"eval": figures_metrics(evaluate(pool, settings, policy_version))}
