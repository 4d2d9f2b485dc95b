"""A verifiers environment whose rollouts are self-play SWE-RL steps played by `swe-selfplay serve`.

One rollout is one step: the service sets up the sandboxed repository, a proposer breaks it (the built-in
proposer by default, or the model under evaluation with `solver_only=False`), and `group_size` solver
episodes by the model under evaluation try to repair it. The model is the one verifiers evaluates: the
service calls it at the endpoint and under the name given to `vf-eval` (`-b`, `-m`), multi-turn with tools,
in its sandboxes. Each of the step's samples becomes one trajectory step with its token ids, loss mask and
logprobs as played and its SSR reward, so a verifiers trainer gets the tokens, not a re-rendering.

    pip install './python[engines]' ./python/environments/swe_selfplay_env
    swe-selfplay serve --repo inkwell=path/to/repo &          # prints its URL
    SWE_SELFPLAY_SERVICES=http://127.0.0.1:8787 vf-eval swe-selfplay-env -m MODEL -b http://127.0.0.1:8000/v1 \\
        -k OPENAI_API_KEY -n 1 -r 1 -a '{"group_size": 2}' -d -s

The reward (weight 1) is the step's solve rate: resolved solvers over the solvers that ran (0 for a step
that failed). Metrics (weight 0): `proposer_reward`, `solvers`, `step_failed`."""

from __future__ import annotations

import os
import uuid
from typing import Any

import verifiers as vf
from datasets import Dataset
from verifiers.types import SamplingArgs, State

from swe_selfplay.adapters.steps import Outcome, SharedSteps, StepSettings, split_sample
from swe_selfplay.client import Inference, StepRequest
from swe_selfplay.samples import Sample

#: verifiers' sampling arguments the service's steps take (the rest are the client's own).
SAMPLING_KEYS = ("max_tokens", "temperature", "top_p", "top_k", "min_p", "seed")


def services_from(value: str | list[str] | None) -> list[str]:
    """The service URLs: a list, a comma-separated string, or SWE_SELFPLAY_SERVICES."""
    raw = value if value is not None else os.environ.get("SWE_SELFPLAY_SERVICES", "")
    urls = [url.strip() for url in (raw.split(",") if isinstance(raw, str) else raw) if url and url.strip()]
    if not urls:
        raise ValueError("swe_selfplay_env: no service URL (pass services=... in --env-args, or set "
                         "SWE_SELFPLAY_SERVICES to the URLs `swe-selfplay serve` printed)")
    return urls


def model_base_url(client: Any) -> str:
    """The OpenAI-compatible base URL verifiers was given for the model (`vf-eval -b`)."""
    config = getattr(client, "config", None)
    url = getattr(config, "api_base_url", None) if config is not None else None
    if not url:
        url = getattr(getattr(client, "client", None), "base_url", None)
    if not url:
        raise ValueError(f"swe_selfplay_env: cannot tell the model's base URL from the client {type(client).__name__}")
    return str(url).rstrip("/")


def step_sampling(sampling_args: SamplingArgs | None) -> dict[str, Any] | None:
    sampling = {key: value for key, value in (sampling_args or {}).items() if key in SAMPLING_KEYS and value is not None}
    return sampling or None


def trajectory_step(sample: Sample, trajectory_id: str, step_id: str | None) -> dict[str, Any]:
    """One sample as a verifiers trajectory step: tokens as played (prompt, then sampled and observed tokens
    with the loss mask 1 on sampled ones), the policy's logprobs, and the sample's SSR reward."""
    parts = split_sample(sample)
    return {
        "prompt": [],
        "completion": [],
        "response": None,
        "tokens": {
            "prompt_ids": parts.prompt_ids,
            "prompt_mask": [0] * len(parts.prompt_ids),
            "completion_ids": parts.response_ids,
            "completion_mask": parts.response_mask,
            "completion_logprobs": parts.response_logprobs,
            "overlong_prompt": False,
            "is_truncated": sample.status == "truncated",
            "routed_experts": None,
        },
        "reward": sample.reward,
        "advantage": None,
        "is_truncated": sample.status == "truncated",
        "trajectory_id": trajectory_id,
        "extras": {"role": sample.role, "step_id": step_id, "sample_id": sample.sample_id, "group_id": sample.group_id,
                   "policy_version": sample.policy_version, "status": sample.status},
    }


def summary(outcome: Outcome) -> dict[str, Any]:
    solvers = [sample for sample in outcome.samples if sample.role == "solver"]
    proposers = [sample for sample in outcome.samples if sample.role == "proposer"]
    resolved = sum(1 for sample in solvers if (sample.reward or 0) > 0)
    return {
        "step_id": outcome.step_id,
        "request_id": outcome.request_id,
        "failure": outcome.failure,
        "solvers": len(solvers),
        "resolved": resolved,
        "solve_rate": resolved / len(solvers) if solvers else 0.0,
        "proposer_reward": proposers[0].reward if proposers and proposers[0].reward is not None else 0.0,
    }


async def solve_rate(state: State) -> float:
    return float(state["swe_selfplay"]["solve_rate"])


async def proposer_reward(state: State) -> float:
    return float(state["swe_selfplay"]["proposer_reward"])


async def solvers(state: State) -> float:
    return float(state["swe_selfplay"]["solvers"])


async def step_failed(state: State) -> float:
    return 0.0 if state["swe_selfplay"]["failure"] is None else 1.0


class SweSelfplayEnv(vf.Environment):
    """Rollout = one self-play step through `swe-selfplay serve`; the model is reached by the service."""

    def __init__(self, services: list[str], group_size: int = 2, environment: str | None = None,
                 strategy: str | None = None, solver_only: bool = True, inference_kind: str = "vllm",
                 tool_call_format: str | None = None, step_timeout_s: float = 3600.0, token: str | None = None,
                 run_name: str | None = None, **kwargs: Any):
        if group_size < 1:
            raise ValueError(f"swe_selfplay_env: group_size is {group_size}, expected at least 1")
        self.inference_kind = inference_kind
        self.tool_call_format = tool_call_format
        self.steps = SharedSteps(StepSettings(
            services=list(services), inference={"kind": inference_kind}, group_size=group_size,
            environment=environment, strategy=strategy, solver_only=solver_only, token=token,
            step_timeout_s=step_timeout_s, run_name=run_name or f"verifiers-{uuid.uuid4().hex[:12]}"))
        super().__init__(**kwargs)

    def step_request(self, state: State, model: str, base_url: str) -> StepRequest:
        info = state.get("info") or {}
        inference: Inference = {"kind": self.inference_kind, "base_url": base_url, "model": model}
        if self.tool_call_format:
            inference["tool_call_format"] = self.tool_call_format
        request = self.steps.request(f"{state['example_id']}-{state['trajectory_id'][:12]}", 0, model, None,
                                     inference)
        request.environment = info.get("environment") or request.environment
        request.strategy = info.get("strategy") or request.strategy
        request.sampling = step_sampling(state.get("sampling_args"))  # type: ignore[assignment]
        return request

    async def rollout(self, input: Any, client: Any, model: str, sampling_args: SamplingArgs | None = None) -> State:
        state = await self.init_state(input, client, model, sampling_args)
        outcome = await self.steps.play(self.step_request(state, model, model_base_url(state["client"])))
        result = summary(outcome)
        state["swe_selfplay"] = result
        state["trajectory"] = [trajectory_step(sample, state["trajectory_id"], outcome.step_id) for sample in outcome.samples]
        if outcome.failure is not None:
            text = f"step failed: {outcome.failure}"
        else:
            text = (f"step {outcome.step_id}: {result['resolved']} of {result['solvers']} solvers resolved "
                    f"the bug (proposer reward {result['proposer_reward']:g})")
        state["completion"] = [{"role": "assistant", "content": text}]
        state["is_completed"] = True
        state["stop_condition"] = "step_done" if outcome.failure is None else "step_failed"
        return state


def load_environment(services: str | list[str] | None = None, num_steps: int = 1, group_size: int = 2,
                     environment: str | None = None, strategy: str | None = None, solver_only: bool = True,
                     inference_kind: str = "vllm", tool_call_format: str | None = None,
                     step_timeout_s: float = 3600.0, **kwargs: Any) -> SweSelfplayEnv:
    """verifiers' entry point (`vf-eval swe-selfplay-env -a '{...}'`): `num_steps` rows, one step each."""
    if num_steps < 1:
        raise ValueError(f"swe_selfplay_env: num_steps is {num_steps}, expected at least 1")
    where = f" on {environment}" if environment else ""
    rows = [{"prompt": [{"role": "user", "content": f"Play self-play SWE-RL step {index + 1}{where}."}],
             "answer": "", "info": {"environment": environment or "", "strategy": strategy or ""}}
            for index in range(num_steps)]
    rubric = vf.Rubric(funcs=[solve_rate, proposer_reward, solvers, step_failed], weights=[1.0, 0.0, 0.0, 0.0])
    return SweSelfplayEnv(services=services_from(services), group_size=group_size, environment=environment,
                          strategy=strategy, solver_only=solver_only, inference_kind=inference_kind,
                          tool_call_format=tool_call_format, step_timeout_s=step_timeout_s,
                          eval_dataset=Dataset.from_list(rows), rubric=rubric, **kwargs)
