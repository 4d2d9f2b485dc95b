"""What the engine adapters share: one self-play step requested per prompt row and handed out sample by
sample to the engine's rollout copies of that row, and the split of a sample into prompt and response."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..client import Inference, ReplicaPool, StepRequest, StepView
from ..samples import Sample, parse_sample

log = logging.getLogger("swe_selfplay.adapters")


@dataclass(frozen=True)
class SplitSample:
    prompt_ids: list[int]
    response_ids: list[int]
    #: 1 on sampled tokens, 0 on tool observations; response only.
    response_mask: list[int]
    response_logprobs: list[float]
    truncated: bool


def split_sample(sample: Sample, max_response: int | None = None) -> SplitSample:
    """Prompt = tokens before prompt_len; response = the rest (sampled and observed tokens), cut to
    `max_response` tokens when the engine's buffers are that long (the sample is then marked truncated)."""
    end = len(sample.tokens)
    if max_response is not None:
        end = min(end, sample.prompt_len + max_response)
    return SplitSample(
        prompt_ids=sample.tokens[: sample.prompt_len],
        response_ids=sample.tokens[sample.prompt_len : end],
        response_mask=sample.loss_mask[sample.prompt_len : end],
        response_logprobs=sample.logprobs[sample.prompt_len : end],
        truncated=end < len(sample.tokens),
    )


def ordered_samples(view: StepView) -> list[Sample]:
    """A finished step's samples: the proposer's first, then the solvers' in order."""
    records = list((view.result or {}).get("samples", []))
    samples = [parse_sample(record) for record in records]
    return sorted(samples, key=lambda sample: (sample.role != "proposer", sample.sample_id))


@dataclass
class StepSettings:
    services: list[str]
    inference: Inference
    group_size: int = 8
    environment: str | None = None
    strategy: str | None = None
    solver_only: bool = False
    sampling: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    step_timeout_s: float = 3600.0
    #: A Ray cluster whose swe_selfplay.ray deployment serves the steps (instead of `services`).
    ray_address: str | None = None
    #: Prefix of request ids; unique per trainer process unless given (then a restart reuses steps).
    run_name: str = field(default_factory=lambda: f"engine-{uuid.uuid4().hex[:12]}")


class SharedSteps:
    """Rows → steps. The engine rolls each prompt row out n times (n = group size + 1); the first copy of a
    row requests a step, every copy awaits it and takes the next sample. When a row's samples are used up,
    its next copy starts a new step (request id `{run}-{row}-{round}`: the service answers a repeated id
    with the same step, never a second one)."""

    def __init__(self, settings: StepSettings):
        self.settings = settings
        self.pool = (ReplicaPool.from_ray(settings.ray_address, token=settings.token) if settings.ray_address
                     else ReplicaPool.of_urls(settings.services, token=settings.token))
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, Any]] = {}
        #: Samples of steps that had more samples than the row's copies (second-order groups), not handed out.
        self.surplus_samples = 0

    def request(self, row: str, round_number: int, model: str, policy_step: int | None) -> StepRequest:
        served: Inference = {**self.settings.inference, "model": model}  # type: ignore[typeddict-item]
        return StepRequest(
            request_id=f"{self.settings.run_name}-{row}-{round_number}",
            inference={"kind": "builtin"} if self.settings.solver_only else served,
            solver_inference=served if self.settings.solver_only else None,
            policy_version=model,
            policy_step=policy_step,
            environment=self.settings.environment,
            strategy=self.settings.strategy,
            group_size=self.settings.group_size,
            sampling=dict(self.settings.sampling) or None,  # type: ignore[arg-type]
        )

    def play(self, request: StepRequest) -> list[Sample]:
        view = self.pool.request_step(request)
        return ordered_samples(self.pool.wait_step(view, timeout_s=self.settings.step_timeout_s))

    async def next_sample(self, row: str, model: str, policy_step: int | None = None) -> tuple[Sample, bool]:
        """The next unused sample of the row's current step, playing a new step when needed, and whether it
        is a repeat (a step with fewer samples than copies: an invalid proposal has only the proposer's)."""
        with self._lock:
            entry = self._rows.get(row)
            if entry is None or entry["taken"] >= entry["size"]:
                round_number = 0 if entry is None else entry["round"] + 1
                request = self.request(row, round_number, model, policy_step)
                entry = {"round": round_number, "taken": 0, "size": self.settings.group_size + 1,
                         "task": asyncio.ensure_future(asyncio.to_thread(self.play, request))}
                self._rows[row] = entry
            index = entry["taken"]
            entry["taken"] += 1
            task = entry["task"]
        samples = await task
        if index == entry["size"] - 1 and len(samples) > entry["size"]:
            # Never silently: the engine's fixed number of copies cannot carry them.
            with self._lock:
                self.surplus_samples += len(samples) - entry["size"]
            log.warning("row %s: its step has %d samples for %d copies; %d (second-order groups) are not "
                        "trained on: set the engine's copies per prompt to at least %d", row, len(samples),
                        entry["size"], len(samples) - entry["size"], len(samples))
        # Repeats fill the engine's fixed number of copies; the adapters zero their loss mask so that no
        # sample is trained on twice.
        return samples[min(index, len(samples) - 1)], index >= len(samples)


_registry: dict[tuple, SharedSteps] = {}


def shared_steps(settings: StepSettings) -> SharedSteps:
    """One registry per configuration and process: engines build a new rollout object for every row copy."""
    key = (tuple(settings.services), tuple(sorted(settings.inference.items())), settings.group_size,
           settings.environment, settings.strategy, settings.solver_only, settings.run_name, settings.ray_address)
    if key not in _registry:
        _registry[key] = SharedSteps(settings)
    return _registry[key]
