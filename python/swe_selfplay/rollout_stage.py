"""The rollout half of an iteration: requests self-play steps from the services with the current version
as the served model, waits for them, and gathers their samples (plus any exported rollout directories
being followed). Pure orchestration over the client; no torch."""

from __future__ import annotations

import logging
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .client import Inference, ReplicaPool, Sampling, StepRequest, StepView
from .errors import SampleError, StepFailed
from .rollouts import RolloutDirectory, read_rollouts
from .samples import Sample, parse_sample

log = logging.getLogger("swe_selfplay.rollout")


@dataclass
class RolloutSettings:
    #: How the policy under training is reached: kind (vllm | sglang), base_url, tool_call_format.
    inference: Inference
    steps_per_iteration: int = 2
    group_size: int = 2
    environment: str | None = None
    strategy: str | None = None
    #: Solver-only training: the built-in policy proposes, the trained model solves.
    solver_only: bool = False
    sampling: Sampling = field(default_factory=dict)
    step_timeout_s: float = 3600.0
    #: Request ids are `{run_name}-{nonce}-i{iteration}-s{index}`: a resumed trainer (same nonce, kept in its
    #: state.json) gets its own steps back, and another run (another nonce) never receives them.
    run_name: str = "train"
    nonce: str = ""


@dataclass
class RunCommand:
    """One machine without the service: each iteration runs `swe-selfplay run` as a fresh run with the
    current version as the model (both roles), exporting its rollouts, which the trainer then reads."""

    #: How to call the CLI, e.g. ["npx", "swe-selfplay"] or ["node", "bin/swe-selfplay.js"].
    command: list[str]
    config: str
    #: Exported rollouts go to `{directory}/iteration-NNNNNN`.
    directory: str
    timeout_s: float = 3600.0

    def arguments(self, settings: RolloutSettings, model: str, out: str) -> list[str]:
        inference = settings.inference
        arguments = [*self.command, "run", "--config", self.config, "--new-run", "--no-progress",
                     "--steps", str(settings.steps_per_iteration), "--group-size", str(settings.group_size),
                     "--policy", "openai", "--inference", str(inference.get("kind", "vllm")),
                     "--call-format", str(inference.get("tool_call_format", "hermes")),
                     "--base-url", str(inference["base_url"]), "--model", model, "--rollouts", out]
        if "max_tokens" in settings.sampling:
            arguments += ["--max-tokens", str(settings.sampling["max_tokens"])]
        sampling: dict[str, Any] = dict(settings.sampling)
        for name in ("temperature", "top_p", "top_k"):
            if name in sampling:
                arguments += ["--" + name.replace("_", "-"), str(sampling[name])]
        return arguments

    def play(self, settings: RolloutSettings, iteration: int, model: str) -> list[Any]:
        out = f"{self.directory}/iteration-{iteration:06d}"
        completed = subprocess.run(self.arguments(settings, model, out), capture_output=True, text=True,
                                   timeout=self.timeout_s)
        if completed.returncode not in (0, 1):
            raise RuntimeError(f"swe-selfplay run exited {completed.returncode}: {completed.stderr[-2000:]}")
        return list(read_rollouts(out))


@dataclass
class RolloutBatch:
    samples: list[Sample] = field(default_factory=list)
    refused: list[SampleError] = field(default_factory=list)
    steps: list[StepView] = field(default_factory=list)
    failed_steps: list[StepFailed] = field(default_factory=list)
    #: Samples that came from followed rollout directories.
    replayed: int = 0

    @property
    def solve_rates(self) -> list[float]:
        return [float(view.result["solve_rate"]) for view in self.steps
                if view.result and isinstance(view.result.get("solve_rate"), (int, float))]

    @property
    def valid_share(self) -> float | None:
        results = [view.result for view in self.steps if view.result]
        if not results:
            return None
        return sum(1 for result in results if result.get("valid")) / len(results)


def request_id(settings: RolloutSettings, iteration: int, index: int) -> str:
    run = f"{settings.run_name}-{settings.nonce}" if settings.nonce else settings.run_name
    return f"{run}-i{iteration}-s{index}"


def step_request(settings: RolloutSettings, iteration: int, index: int, model: str, step: int) -> StepRequest:
    served: Inference = {**settings.inference, "model": model}  # type: ignore[typeddict-item]
    return StepRequest(
        request_id=request_id(settings, iteration, index),
        inference={"kind": "builtin"} if settings.solver_only else served,
        solver_inference=served if settings.solver_only else None,
        policy_version=model,
        policy_step=step,
        environment=settings.environment,
        strategy=settings.strategy,
        group_size=settings.group_size,
        sampling=dict(settings.sampling) or None,  # type: ignore[arg-type]
    )


def add_records(batch: RolloutBatch, records: list[Any]) -> None:
    for record in records:
        try:
            batch.samples.append(parse_sample(record))
        except SampleError as error:
            log.warning("refused %s", error)
            batch.refused.append(error)


def collect(
    pool: ReplicaPool | None,
    settings: RolloutSettings,
    iteration: int,
    model: str,
    step: int,
    followed: list[RolloutDirectory] = (),  # type: ignore[assignment]
    run_command: RunCommand | None = None,
) -> RolloutBatch:
    """Runs one iteration's steps (in parallel, one thread per step) and gathers every sample.

    A step that fails is counted and skipped; a service that stays unreachable raises ServiceUnavailable."""
    batch = RolloutBatch()
    if pool is not None and settings.steps_per_iteration > 0:
        requests = [step_request(settings, iteration, index, model, step)
                    for index in range(settings.steps_per_iteration)]
        posted = [pool.request_step(request) for request in requests]
        log.info("iteration %d: %d steps requested with %s", iteration, len(posted), model)

        def finish(view: StepView) -> StepView | StepFailed:
            try:
                return pool.wait_step(view, timeout_s=settings.step_timeout_s)
            except StepFailed as error:
                return error

        with ThreadPoolExecutor(max_workers=len(posted)) as executor:
            for outcome in executor.map(finish, posted):
                if isinstance(outcome, StepFailed):
                    log.warning("%s", outcome)
                    batch.failed_steps.append(outcome)
                    continue
                batch.steps.append(outcome)
                add_records(batch, list((outcome.result or {}).get("samples", [])))
    if run_command is not None:
        for exported in run_command.play(settings, iteration, model):
            batch.samples.extend(exported.samples)
            batch.refused.extend(exported.refused)
    for directory in followed:
        for exported in directory.new_steps():
            batch.samples.extend(exported.samples)
            batch.refused.extend(exported.refused)
            batch.replayed += len(exported.samples)
    return batch


def acknowledge(pool: ReplicaPool | None, batch: RolloutBatch) -> None:
    """Tells the services the results are consumed (after the version trained on them is saved)."""
    if pool is None:
        return
    for view in batch.steps:
        try:
            pool.ack(view)
        except Exception as error:  # an unacknowledged result only waits for the retention limit
            log.warning("ack of step %s failed: %s", view.step_id, error)
