"""What the engine adapters share: one self-play step requested per prompt row and handed out sample by
sample to the engine's rollout copies of that row, and the split of a sample into prompt and response.

Steps are played over asyncio HTTP (`swe_selfplay.aio`), no thread per step. A step that fails, times out or
cannot reach the service never raises into the engine: every copy of its row gets a `Taken` without a
sample and with the reason, which the adapter turns into a masked, zero-weight sample. A finished step is
acked once its samples are in the engine's hands; a step whose copies are all cancelled (the engine
aborted the rollout) is cancelled on the service."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from ..aio import AsyncReplicaPool
from ..client import Inference, StepRequest, StepView
from ..errors import ServiceError
from ..samples import Sample, parse_sample

log = logging.getLogger(__name__)


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


def unique_run_name(engine: str) -> str:
    """A run name no other run shares: request ids are `{run}-{row}-{round}` and the service answers a
    repeated id with the step it already has, so a second run under a fixed name would get the first's."""
    return f"{engine}-{uuid.uuid4().hex[:12]}"


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
    #: Prefix of request ids; unique per trainer process unless given (then a restart reuses steps).
    run_name: str = field(default_factory=lambda: unique_run_name("engine"))
    #: A Ray cluster whose swe_selfplay.ray deployment serves the steps (its replicas join `services`).
    ray_address: str | None = None


@dataclass
class Outcome:
    """A played step: its samples (proposer first), or why there are none."""

    request_id: str
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None
    step_id: str | None = None


@dataclass(frozen=True)
class Taken:
    """What one rollout copy of a row gets: a sample, or (`sample` None) the reason its step failed.

    `repeat`: the step had fewer samples than copies (a rejected proposal has only the proposer's), so this
    copy repeats one and must not be trained on. `dropped`: samples of the step beyond the copies (told to
    the engine's metrics by the copy that got the last sample)."""

    sample: Sample | None
    repeat: bool = False
    failure: str | None = None
    request_id: str = ""
    step_id: str | None = None
    rank: int = 0
    dropped: int = 0

    @property
    def trainable(self) -> bool:
        return self.sample is not None and not self.repeat


#: Chooses the inference server for one step (by request id) and returns it with a release callback.
InferenceChooser = Callable[[str], Awaitable[tuple[Inference, Callable[[], None]]]]


class SharedSteps:
    """Rows → steps. The engine rolls each prompt row out n times (n = group size + 1); the first copy of a
    row requests a step, every copy awaits it and takes the next sample. When a row's samples are used up,
    its next copy starts a new step (request id `{run}-{row}-{round}`: the service answers a repeated id
    with the same step, never a second one)."""

    def __init__(self, settings: StepSettings):
        self.settings = settings
        self.pool = AsyncReplicaPool.of_urls(settings.services + ray_replica_urls(settings.ray_address),
                                             token=settings.token)
        self._rows: dict[str, dict[str, Any]] = {}

    @property
    def copies(self) -> int:
        return self.settings.group_size + 1

    def request(self, row: str, round_number: int, model: str, policy_step: int | None,
                inference: Inference | None = None) -> StepRequest:
        served: Inference = {**(inference or self.settings.inference), "model": model}  # type: ignore[typeddict-item]
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

    async def play(self, request: StepRequest) -> Outcome:
        """Plays one step to its end. Never raises but on cancellation (then the step is cancelled on the
        service too); every failure is an Outcome with its reason."""
        view: StepView | None = None
        try:
            view = await self.pool.request_step(request)
            done = await self.pool.wait_step(view, timeout_s=self.settings.step_timeout_s)
            samples = ordered_samples(done)
        except asyncio.CancelledError:
            if view is not None:
                await self._cancel_quietly(view)
            raise
        except (ServiceError, TimeoutError, ValueError) as error:
            if isinstance(error, TimeoutError) and view is not None:
                await self._cancel_quietly(view)
            reason = str(error) or type(error).__name__
            log.warning("swe-selfplay step %s failed: %s", request.request_id, reason)
            return Outcome(request.request_id, failure=reason, step_id=view.step_id if view else None)
        if not samples:
            return Outcome(request.request_id, failure="the step finished without samples", step_id=done.step_id)
        try:
            await self.pool.ack(done)
        except ServiceError as error:
            log.warning("swe-selfplay step %s: ack failed (%s); the service keeps its result", done.step_id, error)
        return Outcome(request.request_id, samples=samples, step_id=done.step_id)

    async def _cancel_quietly(self, view: StepView) -> None:
        try:
            await asyncio.shield(self.pool.cancel(view))
        except (ServiceError, asyncio.CancelledError) as error:
            log.warning("swe-selfplay step %s: cancel failed (%s)", view.step_id, error)

    async def next_sample(self, row: str, model: str, policy_step: int | None = None,
                          choose_inference: InferenceChooser | None = None) -> Taken:
        """The next unused sample of the row's current step, playing a new step when needed."""
        entry = self._rows.get(row)
        if entry is None or entry["taken"] >= self.copies or entry.get("abandoned"):
            round_number = 0 if entry is None else entry["round"] + 1
            entry = {"round": round_number, "taken": 0, "waiting": 0,
                     "task": asyncio.ensure_future(self._play_row(row, round_number, model, policy_step,
                                                                  choose_inference))}
            self._rows[row] = entry
        index = entry["taken"]
        entry["taken"] += 1
        task: asyncio.Future = entry["task"]
        entry["waiting"] += 1
        try:
            outcome: Outcome = await asyncio.shield(task)
        except asyncio.CancelledError:
            # The engine cancelled this copy; when no copy of the step waits any more, cancel the step.
            entry["waiting"] -= 1
            if entry["waiting"] == 0 and not task.done():
                entry["abandoned"] = True  # a copy arriving later starts the row's next round
                task.cancel()
            raise
        entry["waiting"] -= 1
        if entry["taken"] >= self.copies and entry["waiting"] == 0:
            entry["task"] = None  # every copy has its sample: keep only the row's round, not its samples
        if outcome.failure is not None:
            return Taken(None, failure=outcome.failure, request_id=outcome.request_id, step_id=outcome.step_id,
                         rank=index)
        samples = outcome.samples
        dropped = max(0, len(samples) - self.copies) if index == self.copies - 1 else 0
        if dropped:
            log.warning("swe-selfplay step %s has %d samples for %d rollout copies: %d not trained on "
                        "(raise the engine's copies per row)", outcome.step_id, len(samples), self.copies, dropped)
        return Taken(samples[min(index, len(samples) - 1)], repeat=index >= len(samples),
                     request_id=outcome.request_id, step_id=outcome.step_id, rank=index, dropped=dropped)

    async def _play_row(self, row: str, round_number: int, model: str, policy_step: int | None,
                        choose_inference: InferenceChooser | None) -> Outcome:
        request_id = f"{self.settings.run_name}-{row}-{round_number}"
        release: Callable[[], None] | None = None
        try:
            inference = None
            if choose_inference is not None:
                inference, release = await choose_inference(request_id)
            return await self.play(self.request(row, round_number, model, policy_step, inference))
        except Exception as error:  # noqa: BLE001 - a chooser's failure is the step's, not the batch's
            return Outcome(request_id, failure=f"{type(error).__name__}: {error}")
        finally:
            if release is not None:
                release()

    async def abort(self) -> None:
        """Cancels every step still in flight (on the service too)."""
        tasks = [entry["task"] for entry in self._rows.values() if entry["task"] is not None and not entry["task"].done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def ray_replica_urls(address: str | None) -> list[str]:
    """The replicas of the swe_selfplay.ray deployment on the cluster at `address` (none without one); a
    cluster that does not answer or runs no replica is a DeploymentError with a one-line reason."""
    if not address:
        return []
    from ..ray import connect

    return connect(address).alive_urls()


_registry: dict[tuple, SharedSteps] = {}


def shared_steps(settings: StepSettings) -> SharedSteps:
    """One registry per configuration and process: engines build a new rollout object for every row copy."""
    key = (tuple(settings.services), tuple(sorted(settings.inference.items())), settings.group_size,
           settings.environment, settings.strategy, settings.solver_only, settings.run_name, settings.ray_address)
    if key not in _registry:
        _registry[key] = SharedSteps(settings)
    return _registry[key]
