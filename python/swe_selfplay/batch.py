"""Sample -> trainer batch: the arrays a policy-gradient step needs, per sample and padded to a batch.

Pure Python (lists); `as_tensors()` turns a batch into torch tensors when torch is there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .samples import Sample


@dataclass(frozen=True)
class TrainingRow:
    sample_id: str
    role: str
    group_id: str
    policy_version: str
    tokens: list[int]
    loss_mask: list[int]
    #: The rollout (behaviour) policy's logprob of each token; 0 outside the mask.
    old_logprobs: list[float]
    reward: float
    advantage: float


@dataclass(frozen=True)
class TrainerBatch:
    tokens: list[list[int]]
    #: 1 on real tokens, 0 on padding.
    attention_mask: list[list[int]]
    loss_mask: list[list[int]]
    old_logprobs: list[list[float]]
    rewards: list[float]
    advantages: list[float]
    group_ids: list[str]
    roles: list[str]
    versions: list[str]
    sample_ids: list[str]

    def as_tensors(self) -> dict[str, Any]:
        import torch

        return {
            "input_ids": torch.tensor(self.tokens, dtype=torch.long),
            "attention_mask": torch.tensor(self.attention_mask, dtype=torch.long),
            "loss_mask": torch.tensor(self.loss_mask, dtype=torch.float32),
            "old_logprobs": torch.tensor(self.old_logprobs, dtype=torch.float32),
            "rewards": torch.tensor(self.rewards, dtype=torch.float32),
            "advantages": torch.tensor(self.advantages, dtype=torch.float32),
        }


def training_row(sample: Sample, advantage: float) -> TrainingRow:
    if sample.reward is None:
        raise ValueError(f"sample {sample.sample_id} has no reward")
    return TrainingRow(
        sample_id=sample.sample_id,
        role=sample.role,
        group_id=sample.group_id,
        policy_version=sample.policy_version,
        tokens=list(sample.tokens),
        loss_mask=list(sample.loss_mask),
        old_logprobs=list(sample.logprobs),
        reward=sample.reward,
        advantage=advantage,
    )


def to_batch(rows: list[TrainingRow], pad_token: int = 0) -> TrainerBatch:
    """Right-padded to the longest row; padding has attention, loss mask and logprobs 0."""
    width = max((len(row.tokens) for row in rows), default=0)

    def pad(values: list, filler: Any) -> list:
        return values + [filler] * (width - len(values))

    return TrainerBatch(
        tokens=[pad(row.tokens, pad_token) for row in rows],
        attention_mask=[pad([1] * len(row.tokens), 0) for row in rows],
        loss_mask=[pad(row.loss_mask, 0) for row in rows],
        old_logprobs=[pad(row.old_logprobs, 0.0) for row in rows],
        rewards=[row.reward for row in rows],
        advantages=[row.advantage for row in rows],
        group_ids=[row.group_id for row in rows],
        roles=[row.role for row in rows],
        versions=[row.policy_version for row in rows],
        sample_ids=[row.sample_id for row in rows],
    )
