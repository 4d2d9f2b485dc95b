"""rollout.v1 records (DESIGN section 8) as checked, typed samples.

A record is untrusted input: every invariant a trainer relies on is checked here, once, and a broken
record is refused with its sample id and every problem, never trained on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import SampleError

ROLES = ("proposer", "solver")
STATUSES = ("completed", "truncated", "aborted", "failed")


@dataclass(frozen=True)
class Sample:
    sample_id: str
    group_id: str
    episode_id: str
    role: str
    policy_version: str
    tokens: list[int]
    prompt_len: int
    loss_mask: list[int]
    logprobs: list[float]
    reward: float | None
    status: str
    meta: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)

    @property
    def policy_step(self) -> int | None:
        """The trainer step of the weights that sampled it, when the service recorded one."""
        step = self.meta.get("policy_step")
        return step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else None

    @property
    def turn_versions(self) -> list[str]:
        """The served model (base or adapter name) of every turn, in order; a name is a version."""
        names = self.meta.get("turn_models")
        if not isinstance(names, list):
            return [self.policy_version]
        return [name if isinstance(name, str) else self.policy_version for name in names]

    @property
    def spans_versions(self) -> bool:
        """Whether its turns were sampled by more than one version (weights changed mid-episode)."""
        return len(set(self.turn_versions)) > 1

    @property
    def sampled_tokens(self) -> int:
        return sum(self.loss_mask)

    def record(self) -> dict[str, Any]:
        """Back to a rollout.v1 record."""
        return {"schema": "rollout.v1", "sample_id": self.sample_id, "group_id": self.group_id,
                "episode_id": self.episode_id, "role": self.role, "policy_version": self.policy_version,
                "sampling": self.sampling, "tokens": self.tokens, "prompt_len": self.prompt_len,
                "loss_mask": self.loss_mask, "logprobs": self.logprobs, "reward": self.reward,
                "status": self.status, "meta": self.meta}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def sample_problems(record: Mapping[str, Any], *, need_reward: bool = True) -> list[str]:
    """Every violated invariant of a raw record, in words; empty when it is sound."""
    problems: list[str] = []
    if record.get("schema") != "rollout.v1":
        problems.append(f"schema is {record.get('schema')!r}, expected 'rollout.v1'")
    for name in ("sample_id", "group_id", "episode_id", "policy_version"):
        if not isinstance(record.get(name), str) or not record.get(name):
            problems.append(f"{name} is missing or not a string")
    if record.get("role") not in ROLES:
        problems.append(f"role is {record.get('role')!r}, expected one of {', '.join(ROLES)}")
    if record.get("status") not in STATUSES:
        problems.append(f"status is {record.get('status')!r}, expected one of {', '.join(STATUSES)}")
    tokens, mask, logprobs = record.get("tokens"), record.get("loss_mask"), record.get("logprobs")
    if not isinstance(tokens, list) or not isinstance(mask, list) or not isinstance(logprobs, list):
        problems.append("tokens, loss_mask and logprobs must all be lists")
        return problems
    if not (len(tokens) == len(mask) == len(logprobs)):
        problems.append(
            f"lengths differ: {len(tokens)} tokens, {len(mask)} loss_mask, {len(logprobs)} logprobs"
        )
    if not all(_is_int(token) and token >= 0 for token in tokens):
        problems.append("tokens holds a value that is not a non-negative integer")
    prompt_len = record.get("prompt_len")
    if not _is_int(prompt_len) or not 0 <= prompt_len <= len(tokens):
        problems.append(f"prompt_len {prompt_len!r} is outside 0..{len(tokens)}")
        prompt_len = 0
    for index, (flag, logprob) in enumerate(zip(mask, logprobs)):
        if flag not in (0, 1) or isinstance(flag, bool):
            problems.append(f"loss_mask[{index}] is {flag!r}, expected 0 or 1")
            break
        if not _is_number(logprob) or math.isnan(logprob) or math.isinf(logprob):
            problems.append(f"logprobs[{index}] is {logprob!r}, not a finite number")
            break
        if index < prompt_len and flag == 1:
            problems.append(f"loss_mask[{index}] is 1 inside the prompt")
            break
        if flag == 0 and logprob != 0:
            problems.append(f"logprobs[{index}] is {logprob} where loss_mask is 0")
            break
        if flag == 1 and logprob > 0:
            problems.append(f"logprobs[{index}] is {logprob}, a log-probability above 0")
            break
    reward = record.get("reward")
    if reward is None:
        if need_reward:
            problems.append("reward is missing")
    elif not _is_number(reward) or not math.isfinite(reward):
        problems.append(f"reward is {reward!r}, not a finite number")
    if not isinstance(record.get("meta", {}), dict):
        problems.append("meta is not an object")
    return problems


def parse_sample(record: Mapping[str, Any], *, need_reward: bool = True) -> Sample:
    """A checked Sample, or SampleError naming the record's sample id and its problems."""
    problems = sample_problems(record, need_reward=need_reward)
    if problems:
        raise SampleError(str(record.get("sample_id", "<no sample_id>")), problems)
    reward = record.get("reward")
    return Sample(
        sample_id=record["sample_id"],
        group_id=record["group_id"],
        episode_id=record["episode_id"],
        role=record["role"],
        policy_version=record["policy_version"],
        tokens=list(record["tokens"]),
        prompt_len=record["prompt_len"],
        loss_mask=list(record["loss_mask"]),
        logprobs=[float(value) for value in record["logprobs"]],
        reward=None if reward is None else float(reward),
        status=record["status"],
        meta=dict(record.get("meta") or {}),
        sampling=dict(record.get("sampling") or {}),
    )


def parse_samples(records: list[Mapping[str, Any]]) -> tuple[list[Sample], list[SampleError]]:
    """The sound samples and, separately, the refused ones with their reasons."""
    good: list[Sample] = []
    refused: list[SampleError] = []
    for record in records:
        try:
            good.append(parse_sample(record))
        except SampleError as error:
            refused.append(error)
    return good, refused
