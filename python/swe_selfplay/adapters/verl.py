"""verl: an agent loop that plays self-play steps through `swe-selfplay serve`.

Register it in verl's agent loop configuration (see docs/training.md):

    - name: swe_selfplay
      _target_: swe_selfplay.adapters.verl.SweSelfplayAgentLoop
      services: ["http://rollout-host-1:8787", "http://rollout-host-2:8787"]
      inference: {kind: vllm, base_url: "http://127.0.0.1:8000/v1", tool_call_format: hermes}
      model: policy
      group_size: 7

(or, for a swe_selfplay.ray deployment, `ray_address: auto` instead of `services`), and set
`actor_rollout_ref.rollout.n` to group_size + 1: each dataset row (its `index`) becomes one step,
whose proposer sample and G solver samples go to the row's n copies. The sample's tokens are what the
policy sampled (token-in/token-out), so `response_logprobs` are the rollout's own."""

from __future__ import annotations

import time
from typing import Any

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput

from .steps import StepSettings, shared_steps, split_sample


class SweSelfplayAgentLoop(AgentLoopBase):
    def __init__(
        self,
        *args: Any,
        services: list[str] = (),  # type: ignore[assignment]
        inference: dict[str, Any],
        model: str,
        group_size: int = 8,
        environment: str | None = None,
        strategy: str | None = None,
        solver_only: bool = False,
        run_name: str = "verl",
        policy_step: int | None = None,
        ray_address: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.model = model
        self.policy_step = policy_step
        self.steps = shared_steps(StepSettings(
            services=list(services), inference=dict(inference), group_size=group_size, environment=environment,
            strategy=strategy, solver_only=solver_only, run_name=run_name, ray_address=ray_address,
        ))

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        started = time.monotonic()
        row = str(kwargs.get("index", kwargs.get("uid", "0")))
        sample, repeat = await self.steps.next_sample(row, self.model, self.policy_step)
        parts = split_sample(sample, int(self.rollout_config.response_length))
        mask = [0] * len(parts.response_mask) if repeat else parts.response_mask
        return AgentLoopOutput(
            prompt_ids=parts.prompt_ids,
            response_ids=parts.response_ids,
            response_mask=mask,
            response_logprobs=parts.response_logprobs,
            reward_score=sample.reward,
            num_turns=len(sample.turn_versions) * 2 + 1,
            metrics=AgentLoopMetrics(generate_sequences=time.monotonic() - started),
            extra_fields={
                "swe_selfplay_sample_id": sample.sample_id,
                "swe_selfplay_role": sample.role,
                "swe_selfplay_group_id": sample.group_id,
                "swe_selfplay_policy_version": sample.policy_version,
                "swe_selfplay_turn_versions": sample.turn_versions,
                "swe_selfplay_truncated": parts.truncated,
                "swe_selfplay_repeat": repeat,
            },
        )
