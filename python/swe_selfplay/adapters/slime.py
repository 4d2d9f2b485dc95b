"""slime: a custom generate function (`--custom-generate-function-path
swe_selfplay.adapters.slime.generate`) that plays one self-play step per prompt sample through
`swe-selfplay serve` against slime's SGLang router, and returns one slime Sample per rollout sample: the
proposer's, then the G solvers'; with it, `--custom-reward-post-process-path
swe_selfplay.adapters.slime.post_process_rewards` (GRPO groups by step and role instead of slime's
n-samples-per-prompt blocks) and, optionally, `--dynamic-sampling-filter-path
swe_selfplay.adapters.slime.keep_steps_with_signal`. Run slime with `--n-samples-per-prompt 1`: one step per
prompt sample.

Every sample of a step carries the prompt sample's index as `rollout_id` (slime requires it on siblings of a
list a generate function returns). A step that fails or times out becomes one sample with
`remove_sample=True` (slime zeroes its loss mask), reward 0 and status FAILED, with the reason in
`metadata["swe_selfplay"]["failure"]`; the filter above drops it with reason `swe_selfplay_failed`, which
slime counts in its rollout metrics.

Settings come from environment variables (slime passes its argparse namespace, which has no room for
ours): SWE_SELFPLAY_SERVICES (comma-separated URLs) or SWE_SELFPLAY_RAY_ADDRESS (a Ray cluster with a
swe_selfplay.ray deployment), SWE_SELFPLAY_MODEL (the served model name, the
policy version), SWE_SELFPLAY_GROUP_SIZE, SWE_SELFPLAY_ENVIRONMENT, SWE_SELFPLAY_STRATEGY,
SWE_SELFPLAY_TOOL_CALL_FORMAT, SWE_SELFPLAY_SOLVER_ONLY=1, SWE_SELFPLAY_SERVICE_TOKEN,
SWE_SELFPLAY_RUN_NAME (default: unique per process). A sample's `metadata` may override environment and
strategy per prompt."""

from __future__ import annotations

import copy
import math
import os
from collections import defaultdict
from typing import Any

from .steps import StepSettings, Taken, shared_steps, split_sample, unique_run_name

_RUN_NAME = unique_run_name("slime")


def settings_from_environment(args: Any, metadata: dict[str, Any]) -> StepSettings:
    services = [url.strip() for url in os.environ.get("SWE_SELFPLAY_SERVICES", "").split(",") if url.strip()]
    ray_address = os.environ.get("SWE_SELFPLAY_RAY_ADDRESS") or None
    if not services and not ray_address:
        raise ValueError("SWE_SELFPLAY_SERVICES names no `swe-selfplay serve` URL, and SWE_SELFPLAY_RAY_ADDRESS "
                         "is unset")
    router = f"http://{args.sglang_router_ip}:{args.sglang_router_port}"
    return StepSettings(
        services=services,
        inference={"kind": "sglang", "base_url": router,
                   "tool_call_format": os.environ.get("SWE_SELFPLAY_TOOL_CALL_FORMAT", "hermes")},
        group_size=int(os.environ.get("SWE_SELFPLAY_GROUP_SIZE", "8")),
        environment=metadata.get("environment") or os.environ.get("SWE_SELFPLAY_ENVIRONMENT"),
        strategy=metadata.get("strategy") or os.environ.get("SWE_SELFPLAY_STRATEGY"),
        solver_only=os.environ.get("SWE_SELFPLAY_SOLVER_ONLY") == "1",
        token=os.environ.get("SWE_SELFPLAY_SERVICE_TOKEN"),
        run_name=os.environ.get("SWE_SELFPLAY_RUN_NAME") or _RUN_NAME,
        ray_address=ray_address,
    )


def _status(template: Any, name: str) -> Any:
    return getattr(type(template).Status, name, type(template).Status.ABORTED)


def to_slime_sample(template: Any, taken: Taken) -> Any:
    """A copy of slime's prompt sample filled with one rollout sample (works on any class with slime's
    Sample fields and its nested Status enum)."""
    rollout = taken.sample
    assert rollout is not None
    parts = split_sample(rollout)
    out = copy.copy(template)
    out.metadata = {**(template.metadata or {}), "swe_selfplay": {
        "sample_id": rollout.sample_id, "role": rollout.role, "group_id": rollout.group_id,
        "step_id": taken.step_id, "policy_version": rollout.policy_version, "episode_id": rollout.episode_id,
        "rank": taken.rank, "failure": None}}
    out.rollout_id = template.index
    out.tokens = parts.prompt_ids + parts.response_ids
    out.response_length = len(parts.response_ids)
    out.loss_mask = list(parts.response_mask)
    out.rollout_log_probs = list(parts.response_logprobs)
    out.reward = rollout.reward
    out.weight_versions = list(rollout.turn_versions)
    status = {"completed": "COMPLETED", "truncated": "TRUNCATED", "aborted": "ABORTED"}.get(rollout.status, "FAILED")
    out.status = _status(template, status)
    return out


def failed_sample(template: Any, taken: Taken) -> Any:
    """The masked, zero-weight stand-in of a failed step: one token, loss mask 0, removed from training."""
    out = copy.copy(template)
    out.metadata = {**(template.metadata or {}), "swe_selfplay": {
        "role": "failed", "step_id": taken.step_id, "request_id": taken.request_id, "failure": taken.failure}}
    out.rollout_id = template.index
    out.tokens = [0, 0]
    out.response_length = 1
    out.loss_mask = [0]
    out.rollout_log_probs = [0.0]
    out.reward = 0.0
    out.remove_sample = True
    out.status = _status(template, "FAILED")
    return out


async def generate(args: Any, sample: Any, sampling_params: dict[str, Any]) -> list[Any]:
    """One step for this prompt sample: [proposer, solver_1, ..., solver_G] as slime Samples, or one
    removed sample when the step failed."""
    settings = settings_from_environment(args, dict(sample.metadata or {}))
    steps = shared_steps(settings)
    model = os.environ.get("SWE_SELFPLAY_MODEL", "policy")
    row = str(sample.index if sample.index is not None else id(sample))
    request = steps.request(row, int((sample.metadata or {}).get("round", 0)), model, None)
    outcome = await steps.play(request)
    if outcome.failure is not None:
        return [failed_sample(sample, Taken(None, failure=outcome.failure, request_id=outcome.request_id,
                                            step_id=outcome.step_id))]
    return [to_slime_sample(sample, Taken(rollout, request_id=outcome.request_id, step_id=outcome.step_id,
                                          rank=rank))
            for rank, rollout in enumerate(outcome.samples)]


def _flat(samples: Any) -> list[Any]:
    out: list[Any] = []
    for item in samples:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


def _info(sample: Any) -> dict[str, Any]:
    return (sample.metadata or {}).get("swe_selfplay") or {}


def group_key(sample: Any) -> str | None:
    """The GRPO group of a sample: its step and role for solvers, the role for proposers (one per step, so
    compared across the batch); None for a removed sample (never normalised with others)."""
    info = _info(sample)
    if getattr(sample, "remove_sample", False) or info.get("role") in (None, "failed"):
        return None
    return "proposer" if info["role"] == "proposer" else f"{info.get('step_id')}/{info['role']}"


def post_process_rewards(args: Any, samples: list[Any]) -> tuple[list[float], list[float]]:
    """slime's custom reward post-process: (raw rewards, rewards normalised per group_key), the same mean
    and (with grpo_std_normalization) std normalisation slime applies per n-samples-per-prompt block."""
    samples = _flat(samples)
    reward_key = getattr(args, "reward_key", None)
    raw = [float(sample.reward[reward_key] if reward_key else sample.reward or 0.0) for sample in samples]
    estimator = getattr(args, "advantage_estimator", "grpo")
    if estimator not in ("grpo", "gspo", "cispo", "reinforce_plus_plus_baseline") or \
            not getattr(args, "rewards_normalization", True):
        return raw, list(raw)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, sample in enumerate(samples):
        key = group_key(sample)
        if key is not None:
            groups[key].append(index)
    out = [0.0] * len(samples)
    divide = estimator in ("grpo", "gspo", "cispo") and getattr(args, "grpo_std_normalization", True)
    for members in groups.values():
        values = [raw[index] for index in members]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        for index in members:
            out[index] = (raw[index] - mean) / (std + 1e-6) if divide and len(values) > 1 else raw[index] - mean
    return raw, out


def keep_steps_with_signal(args: Any, samples: list[Any], **kwargs: Any) -> Any:
    """A slime dynamic-sampling filter for SSR steps (it receives the nested list a list-returning generate
    function produces): drops a failed step (reason `swe_selfplay_failed`) and a step whose solver rewards
    do not vary (`swe_selfplay_zero_std`)."""
    flat = _flat(samples)
    if any(group_key(sample) is None for sample in flat):
        keep, reason = False, "swe_selfplay_failed"
    else:
        rewards = [float(sample.reward) for sample in flat if _info(sample).get("role") == "solver"]
        keep = len(rewards) > 1 and max(rewards) - min(rewards) > 1e-6
        reason = None if keep else "swe_selfplay_zero_std"
    try:
        from slime.rollout.filter_hub.base_types import DynamicFilterOutput
    except ImportError:
        return keep
    return DynamicFilterOutput(keep=keep, reason=reason)
