"""slime: a custom generate function (`--custom-generate-function-path
swe_selfplay.adapters.slime.generate`) that plays one self-play step per prompt sample through
`swe-selfplay serve` against slime's SGLang router, and returns one slime Sample per rollout sample: the
proposer's, then the G solvers'.

Settings come from environment variables (slime passes its argparse namespace, which has no room for
ours): SWE_SELFPLAY_SERVICES (comma-separated URLs) or SWE_SELFPLAY_RAY_ADDRESS (a Ray cluster with a
swe_selfplay.ray deployment), SWE_SELFPLAY_MODEL (the served model name, the
policy version), SWE_SELFPLAY_GROUP_SIZE, SWE_SELFPLAY_ENVIRONMENT, SWE_SELFPLAY_STRATEGY,
SWE_SELFPLAY_TOOL_CALL_FORMAT, SWE_SELFPLAY_SOLVER_ONLY=1, SWE_SELFPLAY_SERVICE_TOKEN. A sample's
`metadata` may override environment and strategy per prompt."""

from __future__ import annotations

import asyncio
import copy
import os
from typing import Any

from .steps import StepSettings, shared_steps, split_sample


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
        run_name=os.environ.get("SWE_SELFPLAY_RUN_NAME", "slime"),
        ray_address=ray_address,
    )


def to_slime_sample(template: Any, rollout: Any, index: int) -> Any:
    """A copy of slime's prompt sample filled with one rollout sample (works on any class with slime's
    Sample fields and its nested Status enum)."""
    parts = split_sample(rollout)
    out = copy.copy(template)
    out.metadata = {**(template.metadata or {}), "swe_selfplay": {
        "sample_id": rollout.sample_id, "role": rollout.role, "group_id": rollout.group_id,
        "policy_version": rollout.policy_version, "episode_id": rollout.episode_id, "rank": index}}
    out.tokens = parts.prompt_ids + parts.response_ids
    out.response_length = len(parts.response_ids)
    out.loss_mask = list(parts.response_mask)
    out.rollout_log_probs = list(parts.response_logprobs)
    out.reward = rollout.reward
    out.weight_versions = list(rollout.turn_versions)
    status = {"completed": "COMPLETED", "truncated": "TRUNCATED", "aborted": "ABORTED"}.get(rollout.status, "FAILED")
    out.status = getattr(type(template).Status, status, type(template).Status.ABORTED)
    return out


async def generate(args: Any, sample: Any, sampling_params: dict[str, Any]) -> list[Any]:
    """One step for this prompt sample: [proposer, solver_1, ..., solver_G] as slime Samples."""
    settings = settings_from_environment(args, dict(sample.metadata or {}))
    steps = shared_steps(settings)
    model = os.environ.get("SWE_SELFPLAY_MODEL", "policy")
    row = str(sample.index if sample.index is not None else id(sample))
    request = steps.request(row, int((sample.metadata or {}).get("round", 0)), model, None)
    rollouts = await asyncio.to_thread(steps.play, request)
    return [to_slime_sample(sample, rollout, rank) for rank, rollout in enumerate(rollouts)]
