"""TRL: a `rollout_func` for TRL's `GRPOTrainer` (TRL ≥ 1.0, tested with 1.16) that plays one self-play step
per prompt through `swe-selfplay serve` and hands TRL the step's samples as played: each prompt's
`num_generations` completions are the step's proposer sample and its G solver samples (so set
`num_generations = group_size + 1`), with their token ids, the policy's logprobs, and `env_mask` (1 on
sampled tokens, 0 on tool observations).

    from swe_selfplay.adapters.trl import SsrRollout, ssr_solver_reward
    rollout = SsrRollout(services=["http://127.0.0.1:8787"], group_size=2,
                         inference={"kind": "vllm", "base_url": "http://127.0.0.1:8000/v1", "model": "policy"})
    trainer = GRPOTrainer(model=..., reward_funcs=ssr_solver_reward, rollout_func=rollout,
                          args=GRPOConfig(num_generations=3, ...), train_dataset=Dataset.from_list([{"prompt": "ssr"}]))

TRL normalises rewards per prompt, i.e. per step: `ssr_solver_reward` scores the solvers and returns None for
the proposer, a repeat and a failed step's stand-ins, which TRL leaves out of the group's baseline and gives
advantage 0. (A single proposer per step has no baseline within its group; the proposer is trained by the
engines that can group it across steps: the reference trainer, verl with `regroup`, slime.)

`solver_only=True` has the service's built-in proposer break the code and the model only solve: the step's
G solver samples fill the first G copies and the last is a masked repeat. `sampling` (max_tokens,
temperature, top_p, ...) is sent with every step.

The inference server must serve the weights TRL trains (e.g. vLLM with the LoRA adapter TRL saves loaded
under a new name each step); `policy_step` is TRL's `state.global_step`."""

from __future__ import annotations

import asyncio
from typing import Any

from .steps import SharedSteps, StepSettings, Taken, split_sample, unique_run_name


class SsrRollout:
    """TRL's rollout_func: `rollout(prompts, trainer) -> {prompt_ids, completion_ids, logprobs, env_mask, ...}`,
    one completion per prompt it is given (TRL gives each dataset prompt num_generations times in a row)."""

    def __init__(self, services: list[str], inference: dict[str, Any], group_size: int = 7,
                 environment: str | None = None, strategy: str | None = None, run_name: str | None = None,
                 pad_token_id: int = 0, solver_only: bool = False, sampling: dict[str, Any] | None = None):
        self.steps = SharedSteps(StepSettings(services=list(services), inference=dict(inference),  # type: ignore[arg-type]
                                              group_size=group_size, environment=environment, strategy=strategy,
                                              solver_only=solver_only, sampling=dict(sampling or {}),
                                              run_name=run_name or unique_run_name("trl")))
        self.model = str(inference.get("model", "policy"))
        self.pad = pad_token_id
        self.calls = 0

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, list]:
        copies = int(getattr(trainer, "num_generations", self.steps.copies))
        if copies != self.steps.copies:
            raise ValueError(f"swe_selfplay rollout: GRPOConfig.num_generations is {copies}, expected group_size + 1"
                             f" = {self.steps.copies}")
        if len(prompts) % copies:
            raise ValueError(f"swe_selfplay rollout: {len(prompts)} prompts is not a multiple of num_generations={copies}")
        step = int(getattr(getattr(trainer, "state", None), "global_step", 0) or 0)
        self.calls += 1
        # TRL repeats each prompt num_generations times in a row: one step per run of copies.
        takens = asyncio.run(self._play(len(prompts) // copies, step))
        out: dict[str, list] = {key: [] for key in ("prompt_ids", "completion_ids", "logprobs", "env_mask",
                                                    "swe_selfplay_reward", "swe_selfplay_role",
                                                    "swe_selfplay_failure")}
        for taken in takens:
            sample = taken.sample
            if sample is None or taken.repeat:
                out["prompt_ids"].append([self.pad])
                out["completion_ids"].append([self.pad])
                out["logprobs"].append([0.0])
                out["env_mask"].append([0])
                out["swe_selfplay_reward"].append(None)
                out["swe_selfplay_role"].append("failed" if sample is None else "repeat")
                out["swe_selfplay_failure"].append(taken.failure)
                continue
            parts = split_sample(sample)
            out["prompt_ids"].append(parts.prompt_ids)
            out["completion_ids"].append(parts.response_ids)
            out["logprobs"].append(parts.response_logprobs)
            out["env_mask"].append(parts.response_mask)
            out["swe_selfplay_reward"].append(sample.reward)
            out["swe_selfplay_role"].append(sample.role)
            out["swe_selfplay_failure"].append(None)
        return out

    async def _play(self, count: int, step: int) -> list[Taken]:
        rows = [f"{self.calls}-{index}" for index in range(count)]
        return list(await asyncio.gather(*(self.steps.next_sample(row, self.model, step)
                                           for row in rows for _ in range(self.steps.copies))))


def ssr_solver_reward(completions: list[Any], swe_selfplay_reward: list[float | None],
                      swe_selfplay_role: list[str], **kwargs: Any) -> list[float | None]:
    """A TRL reward function: a solver's SSR reward; None (left out of TRL's baseline, advantage 0) otherwise."""
    return [reward if role == "solver" else None for reward, role in zip(swe_selfplay_reward, swe_selfplay_role)]
