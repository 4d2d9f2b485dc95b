"""verl: an agent loop that plays self-play steps through `swe-selfplay serve` against verl's own inference
servers. Supported: verl 0.9.0 to 0.9.1, both tested (`AgentLoopBase` with `rollout_config` and
`server_manager`, `LLMServerClient` with its global load balancer; earlier versions have neither).

Register it in verl's agent loop configuration (`actor_rollout_ref.rollout.agent.agent_loop_config_path`,
docs/engines/verl-agent-loop.yaml, see docs/training.md):

    - name: swe_selfplay
      _target_: swe_selfplay.adapters.verl.SweSelfplayAgentLoop
      services: ["http://rollout-host-1:8787", "http://rollout-host-2:8787"]   # or a comma-separated string
      group_size: 7
      tool_call_format: hermes

(or, for a swe_selfplay.ray deployment, `ray_address: auto` instead of `services`), and set `actor_rollout_ref.rollout.n` to group_size + 1 (checked). Each dataset row (verl's `uid`, shared by
the row's n copies and unique per batch, validation rows included) becomes one step, whose proposer sample
and G solver samples go to the row's n copies.

The servers are verl's own: each step goes to the replica verl's load balancer picks (the servers bind a free
port at run time, and verl syncs weights only into them), with the served model name verl gives vLLM or
SGLang (the LoRA adapter's name when the actor trains a LoRA). A static `inference` with a `base_url`
overrides that (for a server outside verl: the samples are then off-policy).

The sample's tokens are what the policy sampled (token-in/token-out), so `response_logprobs` are the
rollout's own. A prompt longer than `rollout.prompt_length` is refused (verl would left-truncate it, and the
sample would no longer be what the policy saw): it becomes a masked, zero-weight sample, as does a failed
step, each with its reason in `extra_fields` (`swe_selfplay_failure`) and a 0/1 `swe_selfplay_failed` in
`reward_extra_info`, which verl's batch and metrics carry.

verl's GRPO groups by `uid`, which puts a step's proposer and its solvers in one group. Each output carries
`swe_selfplay_group` (the step and role for solvers, the role for proposers, compared across the batch);
`regroup(batch)` sets `uid` from it on verl's batch before `compute_advantage`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput

from .steps import StepSettings, Taken, shared_steps, split_sample, unique_run_name

#: The served names of the actor's LoRA adapter in verl 0.9 (verl.workers.rollout.vllm_rollout.utils
#: VLLM_LORA_NAME, verl.workers.rollout.sglang_rollout.utils SGLANG_LORA_NAME); kept here because importing
#: those modules imports the inference engines.
LORA_NAMES = {"vllm": "123", "sglang": "verl_actor_lora_name"}

#: One run name per process unless configured: a second run must never receive the first one's steps.
_RUN_NAME = unique_run_name("verl")


def served_model(config: Any) -> str:
    """The model name verl's servers answer to: the LoRA adapter's when the actor trains one, else the
    prometheus `served_model_name` when set, else the model path vLLM/SGLang were started with."""
    rollout, model = config.actor_rollout_ref.rollout, config.actor_rollout_ref.model
    lora_rank = int(model.get("lora_rank", 0) or 0) or int((model.get("lora") or {}).get("rank", 0) or 0)
    if lora_rank > 0:
        return LORA_NAMES.get(str(rollout.name), LORA_NAMES["vllm"])
    prometheus = rollout.get("prometheus") or {}
    if prometheus.get("enable") and prometheus.get("served_model_name"):
        return str(prometheus.served_model_name).split("/")[-1]
    return str(model.path)


class SweSelfplayAgentLoop(AgentLoopBase):
    def __init__(
        self,
        *args: Any,
        services: list[str] | str = (),  # type: ignore[assignment]
        group_size: int = 8,
        inference: dict[str, Any] | None = None,
        model: str | None = None,
        tool_call_format: str = "hermes",
        environment: str | None = None,
        strategy: str | None = None,
        solver_only: bool = False,
        run_name: str | None = None,
        ray_address: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        copies = int(self.rollout_config.n)
        if copies != group_size + 1:
            raise ValueError(f"swe_selfplay agent loop: actor_rollout_ref.rollout.n is {copies}, expected "
                             f"group_size + 1 = {group_size + 1} (one proposer and {group_size} solver samples)")
        self.static_inference = dict(inference) if inference and inference.get("base_url") else None
        self.kind = str(self.rollout_config.name) if str(self.rollout_config.name) in LORA_NAMES else "vllm"
        self.model = model or served_model(self.config)
        self.prompt_length = int(self.rollout_config.prompt_length)
        self.response_length = int(self.rollout_config.response_length)
        self.steps = shared_steps(StepSettings(
            services=[url.strip() for url in services.split(",") if url.strip()] if isinstance(services, str)
            else list(services),
            inference=self.static_inference or {"kind": self.kind, "tool_call_format": tool_call_format},
            group_size=group_size, environment=environment, strategy=strategy, solver_only=solver_only,
            run_name=run_name or _RUN_NAME, ray_address=ray_address,
        ))

    async def _choose_server(self, request_id: str) -> tuple[dict[str, Any], Any]:
        """The replica verl's load balancer picks for this step (sticky per request id), released when the
        step ends."""
        server_id, _ = await self.server_manager._acquire_server(request_id)
        inference = {**self.steps.settings.inference, "base_url": f"http://{server_id}/v1"}
        return inference, lambda: self.server_manager._release_server(server_id)

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        started = time.monotonic()
        if "uid" not in kwargs:
            raise ValueError("swe_selfplay agent loop: the row has no `uid` (verl sets it per dataset row; "
                             "a custom trainer must set one uid per row, shared by its rollout copies)")
        row = str(kwargs["uid"])
        global_steps = kwargs.get("global_steps")
        policy_step = int(global_steps) if global_steps is not None and int(global_steps) >= 0 else None
        chooser = None if self.static_inference else self._choose_server
        taken = await self.steps.next_sample(row, self.model, policy_step, chooser)
        return self.output(taken, time.monotonic() - started)

    def output(self, taken: Taken, seconds: float) -> AgentLoopOutput:
        sample, failure = taken.sample, taken.failure
        if sample is not None and sample.prompt_len > self.prompt_length:
            failure = (f"prompt of {sample.prompt_len} tokens exceeds actor_rollout_ref.rollout.prompt_length="
                       f"{self.prompt_length}; raise it")
        extra: dict[str, Any] = {
            "swe_selfplay_request_id": taken.request_id,
            "swe_selfplay_step_id": taken.step_id,
            "swe_selfplay_failure": failure,
            "swe_selfplay_repeat": taken.repeat,
            "swe_selfplay_dropped": taken.dropped,
            "reward_extra_info": {"swe_selfplay_failed": 1.0 if failure else 0.0},
        }
        if sample is None or failure is not None:
            # A masked, zero-weight placeholder: one pad token of prompt and of response, mask 0, reward 0,
            # alone in its advantage group.
            pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
            extra.update({"swe_selfplay_role": "failed", "swe_selfplay_sample_id": None,
                          "swe_selfplay_group": f"failed/{taken.request_id}/{taken.rank}",
                          "swe_selfplay_truncated": False, "min_global_steps": None, "max_global_steps": None})
            return AgentLoopOutput(prompt_ids=[pad], response_ids=[pad], response_mask=[0], response_logprobs=[0.0],
                                   reward_score=0.0, num_turns=0, metrics=AgentLoopMetrics(generate_sequences=seconds),
                                   extra_fields=extra)
        parts = split_sample(sample, self.response_length)
        mask = [0] * len(parts.response_mask) if taken.repeat else parts.response_mask
        group = sample.role if sample.role == "proposer" else f"{taken.step_id}/{sample.role}"
        if taken.repeat:
            group = f"repeat/{taken.request_id}/{taken.rank}"
        extra.update({
            "swe_selfplay_sample_id": sample.sample_id,
            "swe_selfplay_role": sample.role,
            "swe_selfplay_group": group,
            "swe_selfplay_policy_version": sample.policy_version,
            "swe_selfplay_turn_versions": sample.turn_versions,
            "swe_selfplay_truncated": parts.truncated,
            "min_global_steps": sample.policy_step,
            "max_global_steps": sample.policy_step,
        })
        return AgentLoopOutput(
            prompt_ids=parts.prompt_ids,
            response_ids=parts.response_ids,
            response_mask=mask,
            response_logprobs=parts.response_logprobs,
            reward_score=0.0 if taken.repeat else sample.reward,
            num_turns=len(sample.turn_versions) * 2 + 1,
            metrics=AgentLoopMetrics(generate_sequences=seconds),
            extra_fields=extra,
        )


def regroup(batch: Any) -> Any:
    """Sets verl's `uid` (its GRPO group) from each sample's `swe_selfplay_group`, so that a step's proposer
    and its solvers, and failed or repeated samples, are not normalised together. Call it on the trainer's
    batch after the rollout and before `compute_advantage`."""
    groups = batch.non_tensor_batch.get("swe_selfplay_group")
    if groups is None:
        raise ValueError("regroup: the batch has no swe_selfplay_group (not produced by the swe_selfplay agent loop)")
    uids = batch.non_tensor_batch.get("uid")
    batch.non_tensor_batch["uid"] = np.array(
        [group if group is not None else uids[index] for index, group in enumerate(groups)], dtype=object)
    return batch
