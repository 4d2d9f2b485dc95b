"""Policy versions: a version names weights actually served, the base model (step 0) or a LoRA adapter
loaded into the inference server (`policy-vN` for trainer step N). Samples older than the current step
minus the staleness bound k are not trained on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .samples import Sample

DEFAULT_PREFIX = "policy-v"
DEFAULT_STALENESS = 2


@dataclass(frozen=True)
class VersionNames:
    """Maps trainer steps to served model names and back."""

    base_model: str
    prefix: str = DEFAULT_PREFIX

    def name(self, step: int) -> str:
        if step < 0:
            raise ValueError(f"a policy step is a non-negative integer, got {step}")
        return self.base_model if step == 0 else f"{self.prefix}{step}"

    def step_of(self, name: str) -> int | None:
        """The step a served name stands for; None for a name this trainer did not make."""
        if name == self.base_model:
            return 0
        match = re.fullmatch(re.escape(self.prefix) + r"(\d+)", name)
        return int(match.group(1)) if match else None


def sample_step(sample: Sample, names: VersionNames) -> int | None:
    """The oldest step any of the sample's turns was sampled with (a sample is as stale as its oldest turn).

    Per-turn model names decide when they are all known; otherwise the step the service recorded."""
    steps = [names.step_of(version) for version in sample.turn_versions]
    if steps and all(step is not None for step in steps):
        return min(step for step in steps if step is not None)
    recorded = sample.policy_step
    if recorded is not None:
        return recorded
    return names.step_of(sample.policy_version)


def split_stale(
    samples: list[Sample], current_step: int, names: VersionNames, staleness: int = DEFAULT_STALENESS
) -> tuple[list[Sample], list[Sample]]:
    """(fresh, stale): a sample is stale when its step is below current - k, or unknown."""
    fresh: list[Sample] = []
    stale: list[Sample] = []
    for sample in samples:
        step = sample_step(sample, names)
        (fresh if step is not None and step >= current_step - staleness else stale).append(sample)
    return fresh, stale


def versions_to_unload(loaded: list[int], current_step: int, staleness: int = DEFAULT_STALENESS) -> list[int]:
    """Adapter steps beyond the staleness window (the base model, step 0, is never unloaded)."""
    return sorted(step for step in loaded if 0 < step < current_step - staleness)
