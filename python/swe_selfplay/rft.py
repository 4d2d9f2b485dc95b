"""Rejection-sampling fine-tuning (STaR / RFT, `--mode rft`): each iteration requests the same self-play steps
as the RL path (G attempts per task with `--group-size`, `--solver-only` for the model to solve only), keeps the
samples of the accepted episodes and fine-tunes on their sampled tokens with the warm start's NLL. Their tokens
are the RL path's tokenisation already (rollout.v1 samples). Everything else is the RL iteration's: the same
request ids, stale and broken samples left out, the next version saved, hot-loaded, evaluated and resumed.

Accepted, per role: a solver episode that resolved its bug (reward 1); a proposer episode whose artifact was
valid and was solved by some but not most attempts (its reward is positive only then)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .samples import Sample
from .sft import SftSettings, epoch_order, nll_epoch
from .sft_data import SftExample
from .train import Trainer, TrainerSettings


@dataclass
class Selection:
    """The accepted samples (each with weight 1), in the shape the iteration reports."""

    kept: list[tuple[Sample, float]] = field(default_factory=list)
    #: Samples not accepted (unresolved, invalid, no reward, nothing sampled).
    rejected: int = 0
    #: Accepted samples per role.
    by_role: dict[str, int] = field(default_factory=lambda: {"proposer": 0, "solver": 0})
    #: Nothing is dropped for a lack of variance here.
    dropped_samples: int = 0


def accepted(sample: Sample) -> bool:
    """Whether the sample's episode succeeded at its role's task (see the module's head)."""
    if sample.reward is None or sample.sampled_tokens == 0:
        return False
    if sample.role == "solver":
        return sample.reward >= 1.0
    return sample.reward > 0.0


def select(samples: list[Sample]) -> Selection:
    selection = Selection()
    for sample in samples:
        if accepted(sample):
            selection.kept.append((sample, 1.0))
            selection.by_role[sample.role] = selection.by_role.get(sample.role, 0) + 1
        else:
            selection.rejected += 1
    return selection


class RejectionSamplingTrainer(Trainer):
    def __init__(self, settings: TrainerSettings):
        super().__init__(settings)
        self.sft = settings.sft or SftSettings()

    def select(self, samples: list[Sample]) -> Selection:  # type: ignore[override]
        return select(samples)

    def update(self, kept: list[tuple[Sample, float]]) -> dict[str, Any]:
        """The warm start's NLL epochs on the accepted samples' sampled tokens (the loss mask)."""
        examples = [SftExample(line=index, tokens=sample.tokens, mask=sample.loss_mask)
                    for index, (sample, _) in enumerate(kept)]
        result: dict[str, Any] = {
            "loss": None, "clip_fraction": None, "dual_clip_fraction": None, "approx_kl": None,
            "trained_tokens": float(sum(example.labelled for example in examples)),
            "trained_samples": float(len(kept)), "grad_norm": None, "entropy": None, "kl_to_previous": None,
            "ratio": {"min": None, "max": None}, "rollout_vs_trainer": {"max_abs": None, "mean_abs": None, "tokens": 0},
            "importance_weight": None, "skipped_steps": 0, "optimizer_steps": 0, "loss_by_epoch": {},
        }
        if not examples:
            return result
        for epoch in range(self.sft.epochs):
            order = epoch_order(len(examples), self.sft.seed + self.iteration_done + 1, epoch, self.sft.shuffle)
            outcome = nll_epoch(self.policy, examples, order, self.sft.batch_tokens, self.settings.max_grad_norm)
            result["loss_by_epoch"][str(epoch + 1)] = outcome["loss"]
            result.update(loss=outcome["loss"], grad_norm=outcome["grad_norm"])
            result["skipped_steps"] += outcome["skipped_steps"]
            result["optimizer_steps"] += outcome["optimizer_steps"]
        return result

    def report(self, iteration: int, sampled_with: str, produced: str, batch: Any, fresh: list[Sample],
               stale: list[Sample], advantages: Any, update: dict[str, Any], probe: dict[str, Any],
               times: dict[str, float]) -> dict[str, Any]:
        report = super().report(iteration, sampled_with, produced, batch, fresh, stale, advantages, update, probe,
                                times)
        training_s = times["training_s"]
        report["mode"] = "rft"
        report["rft"] = {"accepted": dict(advantages.by_role), "rejected": advantages.rejected,
                         "loss_by_epoch": update["loss_by_epoch"], "epochs": self.sft.epochs}
        report["tokens_per_s"]["training"] = (update["trained_tokens"] * self.sft.epochs / training_s
                                              if training_s > 0 else 0.0)
        return report

