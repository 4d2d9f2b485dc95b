"""GRPO-style advantages from SSR rewards: per role, per group, reward minus the group's mean, divided by
its standard deviation; groups whose rewards do not vary carry no signal and are dropped. `baseline="none"`
uses the rewards themselves (REINFORCE without a baseline): every sample then moves the policy, which is
what a smoke test with two tiny groups needs.

A self-play step has G solver samples in one group but a single proposer sample, so proposer samples are by
default compared across the whole batch (`proposer_grouping="batch"`); "group" keeps the service's ids.

The unit of a group is the episode, not the sample: an episode split into several samples (a prefix break)
counts once in its group's mean and standard deviation, and its advantage is shared by all its samples."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from .samples import Sample


@dataclass(frozen=True)
class AdvantageSettings:
    baseline: Literal["group", "none"] = "group"
    normalise_std: bool = True
    drop_zero_variance: bool = True
    proposer_grouping: Literal["batch", "group"] = "batch"
    solver_grouping: Literal["batch", "group"] = "group"
    epsilon: float = 1e-6


@dataclass
class Advantages:
    #: (sample, advantage) for every sample kept.
    kept: list[tuple[Sample, float]] = field(default_factory=list)
    dropped_groups: int = 0
    dropped_samples: int = 0


def group_key(sample: Sample, settings: AdvantageSettings) -> tuple[str, str]:
    grouping = settings.proposer_grouping if sample.role == "proposer" else settings.solver_grouping
    return (sample.role, sample.group_id if grouping == "group" else "*")


def compute_advantages(samples: list[Sample], settings: AdvantageSettings = AdvantageSettings()) -> Advantages:
    groups: dict[tuple[str, str], dict[str, list[Sample]]] = defaultdict(lambda: defaultdict(list))
    for sample in samples:
        if sample.reward is None:
            raise ValueError(f"sample {sample.sample_id} has no reward")
        groups[group_key(sample, settings)][sample.episode_id].append(sample)
    result = Advantages()
    for episodes in groups.values():
        # An episode's samples carry its one reward; should they differ, their mean stands for the episode.
        members = list(episodes.values())
        rewards = [sum(float(sample.reward) for sample in parts) / len(parts)  # type: ignore[arg-type]
                   for parts in members]
        mean = sum(rewards) / len(rewards)
        variance = sum((reward - mean) ** 2 for reward in rewards) / len(rewards)
        std = math.sqrt(variance)
        if settings.baseline == "none":
            result.kept.extend((sample, reward) for parts, reward in zip(members, rewards) for sample in parts)
            continue
        if settings.drop_zero_variance and std < settings.epsilon:
            result.dropped_groups += 1
            result.dropped_samples += sum(len(parts) for parts in members)
            continue
        scale = std + settings.epsilon if settings.normalise_std else 1.0
        for parts, reward in zip(members, rewards):
            result.kept.extend((sample, (reward - mean) / scale) for sample in parts)
    return result
