"""The reference trainer: `python -m swe_selfplay.train`.

Each iteration: request self-play steps with the current version as the served model (rollout), drop stale,
broken and unreproducible samples, form per-role, per-group advantages over episodes, take a PPO-clip step
on the LoRA parameters against the rollout logprobs of the sampled distribution (training), save the adapter
as the next version, hot-load it into vLLM and unload versions beyond the staleness window (hot-load), then
write the iteration's metrics (JSON lines and store) and only then `state.json`. An iteration without a
trainable sample makes no version. `state.json` names the last saved version, the last finished iteration,
the run's request-id nonce and the followed rollout steps already consumed; a restarted trainer resumes from
it, and its step requests reuse the same request ids, so a step already played is returned again, never
played twice, and never trained on twice.

`--sft FILE` runs a warm start instead (supervised fine-tuning, `sft.py`), saved as the next version of the
same output directory; `--mode rft` fine-tunes on each iteration's accepted attempts (`rft.py`)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .advantages import AdvantageSettings, compute_advantages
from .client import ReplicaPool
from .errors import ServiceUnavailable
from .evaluation import EvaluationSettings, add_arguments as add_evaluation_arguments, evaluate_iteration
from .evaluation import settings_from as evaluation_settings_from
from .inference import VllmAdmin
from .metrics import append_jsonl, read_jsonl, record_in_store, solve_rate_histogram
from .rollout_stage import RolloutBatch, RolloutSettings, RunCommand, acknowledge, collect
from .rollouts import RolloutDirectory
from .samples import Sample
from .sft import SftSettings, add_arguments as add_sft_arguments
from .sft import settings_from as sft_settings_from
from .versions import DEFAULT_STALENESS, VersionNames, sample_step, split_stale, versions_to_unload

log = logging.getLogger("swe_selfplay.train")


@dataclass
class TrainerSettings:
    out_dir: str
    model_dir: str
    #: The name vLLM serves the base model under (version 0).
    base_model: str
    #: vLLM's root URL; a warm start (`sft`) may run without one (nothing is hot-loaded then).
    vllm_url: str | None
    services: list[str]
    rollout: RolloutSettings
    iterations: int = 1
    staleness: int = DEFAULT_STALENESS
    learning_rate: float = 1e-4
    epochs: int = 1
    clip_low: float = 0.2
    clip_high: float = 0.2
    #: Dual-clip bound c (> 1) for negative advantages; None switches it off.
    dual_clip: float | None = 3.0
    #: Gradient-norm clipping; None measures the norm without clipping.
    max_grad_norm: float | None = 1.0
    #: Recompute pi_old with the trainer's weights before the update (one more forward pass per sample) and
    #: weight each token by min(pi_old / pi_behaviour, tis_cap).
    recompute_old: bool = False
    #: Cap of the truncated importance weights (with recompute_old); None leaves the weights out.
    tis_cap: float | None = 2.0
    advantages: AdvantageSettings = field(default_factory=AdvantageSettings)
    dtype: str = "float32"
    lora_rank: int = 8
    lora_alpha: int = 16
    threads: int | None = None
    version_prefix: str = "policy-v"
    store: str | None = None
    run_id: str | None = None
    follow_rollouts: list[str] = field(default_factory=list)
    service_token: str | None = None
    max_minutes: float | None = None
    run_command: RunCommand | None = None
    evaluation: EvaluationSettings | None = None
    #: A Ray cluster whose `swe_selfplay.ray` deployment serves the steps (instead of, or besides, `services`).
    ray_address: str | None = None
    #: The warm start's file and options (`--sft`), and the fine-tuning options of `mode` "rft".
    sft: SftSettings | None = None
    #: "rl" (policy-gradient iterations) or "rft" (rejection sampling: fine-tune on the accepted attempts).
    mode: str = "rl"


class TrainerState:
    """`state.json`, written atomically: `step` (the last saved version, 0 = base model), `iteration` (the
    last finished one), `nonce` (this output directory's part of every request id) and `followed` (per
    followed rollout directory, the step directories already trained on)."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / "state.json"

    def read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"step": 0, "iteration": 0}
        state = json.loads(self.path.read_text("utf-8"))
        # Before iterations and versions could differ, a state's iteration was its step.
        state.setdefault("iteration", state.get("step", 0))
        return state

    def update(self, values: dict[str, Any]) -> None:
        """Writes `values` over the current state, keeping what others keep there (the warm starts)."""
        self.write({**self.read(), **values})

    def write(self, state: dict[str, Any]) -> None:
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(state, indent=2) + "\n", "utf-8")
        os.replace(partial, self.path)


def forget_unfinished_iterations(path: Path, finished: int) -> int:
    """Drops metric lines of iterations after the last finished one (a crash between the metrics and
    state.json: the iteration runs again and writes its line again); returns how many were dropped."""
    lines = read_jsonl(path)
    kept = [line for line in lines if int(line.get("iteration", 0)) <= finished]
    if len(kept) != len(lines):
        partial = path.with_suffix(".jsonl.partial")
        partial.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in kept), "utf-8")
        os.replace(partial, path)
    return len(lines) - len(kept)


class Trainer:
    def __init__(self, settings: TrainerSettings):
        from .policy import LoraPolicy, LoraSettings, PolicySettings

        self.settings = settings
        self.out = Path(settings.out_dir)
        (self.out / "adapters").mkdir(parents=True, exist_ok=True)
        self.names = VersionNames(settings.base_model, settings.version_prefix)
        self.state = TrainerState(self.out)
        state = self.state.read()
        self.step = int(state.get("step", 0))
        self.iteration_done = int(state.get("iteration", self.step))
        self.nonce = str(state.get("nonce") or secrets.token_hex(8))
        settings.rollout.nonce = self.nonce
        followed_seen = state.get("followed", {})
        self.followed = [RolloutDirectory(path, seen=followed_seen.get(str(Path(path).resolve()), []))
                         for path in settings.follow_rollouts]
        if "nonce" not in state:
            self.write_state()  # before any request, so that a crash in the first iteration keeps the nonce
        dropped = forget_unfinished_iterations(self.out / "metrics.jsonl", self.iteration_done)
        if dropped:
            log.info("dropped %d metric line(s) of an unfinished iteration; it runs again", dropped)
        policy_settings = PolicySettings(
            model_dir=settings.model_dir,
            dtype=settings.dtype,
            lora=LoraSettings(rank=settings.lora_rank, alpha=settings.lora_alpha),
            learning_rate=settings.learning_rate,
            threads=settings.threads,
        )
        adapter = self.adapter_dir(self.step) if self.step > 0 else None
        if adapter is not None and not adapter.is_dir():
            raise FileNotFoundError(f"state.json names step {self.step}, but {adapter} is missing")
        self.policy = LoraPolicy(policy_settings, adapter_dir=adapter)
        if not settings.vllm_url:
            raise ValueError("training iterations need --vllm-url (the server that samples them)")
        self.vllm = VllmAdmin(settings.vllm_url)
        self.pool = (
            ReplicaPool.of_urls(settings.services, token=settings.service_token) if settings.services else None
        )
        if settings.ray_address:
            self.pool = ReplicaPool.from_ray(settings.ray_address, token=settings.service_token)
        if self.step > 0:
            log.info("resuming at %s", self.names.name(self.step))
            self.ensure_served(self.step)

    def write_state(self) -> None:
        self.state.update({"step": self.step, "version": self.names.name(self.step),
                          "iteration": self.iteration_done, "nonce": self.nonce,
                          "followed": {str(directory.root.resolve()): directory.seen
                                       for directory in self.followed}})

    def adapter_dir(self, step: int) -> Path:
        return self.out / "adapters" / self.names.name(step)

    def ensure_served(self, step: int) -> None:
        """After a restart (of the trainer or of vLLM) the current version must be served again."""
        name = self.names.name(step)
        if name not in self.vllm.models():
            self.vllm.load_adapter(name, str(self.adapter_dir(step)))

    def run(self) -> list[dict[str, Any]]:
        """Up to `iterations` iterations; with a time budget, no iteration starts after it is spent."""
        reports = []
        started = time.monotonic()
        for _ in range(self.settings.iterations):
            if self.settings.max_minutes and time.monotonic() - started > self.settings.max_minutes * 60:
                log.info("time budget of %s min spent after %d iterations", self.settings.max_minutes, len(reports))
                break
            reports.append(self.iteration())
        return reports

    def iteration(self) -> dict[str, Any]:
        from .loss import unreproducible

        iteration = self.iteration_done + 1
        current = self.names.name(self.step)
        started = time.monotonic()
        batch = collect(self.pool, self.settings.rollout, iteration, current, self.step, self.followed,
                        self.settings.run_command)
        rollout_s = time.monotonic() - started
        self.keep_samples(iteration, batch)
        fresh, stale = split_stale(batch.samples, self.step, self.names, self.settings.staleness)
        for sample in stale:
            log.info("stale sample %s (version %s) not trained on", sample.sample_id, sample.policy_version)
        reproducible = []
        unmatched = 0
        for sample in fresh:
            fields = unreproducible(sample.sampling)
            if fields:
                log.warning("sample %s not trained on: its sampling used %s, which the trainer does not "
                            "reproduce", sample.sample_id, ", ".join(fields))
                unmatched += 1
            else:
                reproducible.append(sample)
        advantages = self.select(reproducible)
        started = time.monotonic()
        update = self.update(advantages.kept)
        training_s = time.monotonic() - started
        started = time.monotonic()
        new_step, unloaded, probe = self.step, [], {}
        if update["trained_tokens"] > 0 and update["optimizer_steps"] > 0:
            new_step = self.step + 1
            name = self.names.name(new_step)
            self.policy.save(self.adapter_dir(new_step), {"name": name, "step": new_step, "iteration": iteration})
            self.vllm.load_adapter(name, str(self.adapter_dir(new_step)), replace=name in self.vllm.models())
            unloaded = self.unload_old(new_step)
            hotload_s = time.monotonic() - started
            probe = self.probe(advantages.kept, name)
        else:
            # Nothing learned: no version to save, serve or count toward staleness.
            log.info("iteration %d: no trainable sample, %s stays the current version", iteration, current)
            hotload_s = 0.0
        produced = self.names.name(new_step)
        report = self.report(iteration, current, produced, batch, fresh, stale, advantages, update, probe,
                             {"rollout_s": rollout_s, "training_s": training_s, "hotload_s": hotload_s})
        report["unloaded"] = unloaded
        report["new_version"] = new_step != self.step
        report["unreproducible_samples"] = unmatched
        report["dropped_samples"] += unmatched
        report.update(evaluate_iteration(self.settings.evaluation, self.pool, iteration, produced))
        # The metrics first, state.json last: a crash in between repeats the iteration (same request ids,
        # same steps back) and rewrites its metrics, while state.json never names an iteration the store or
        # metrics.jsonl lack.
        append_jsonl(self.out / "metrics.jsonl", report)
        if self.settings.store:
            self.settings.run_id = record_in_store(self.settings.store, self.settings.run_id, iteration, produced,
                                                   report)
        self.step = new_step
        self.iteration_done = iteration
        self.write_state()
        acknowledge(self.pool, batch)
        log.info("iteration %d: %s", iteration, json.dumps({key: report[key] for key in ("reward_mean", "loss")}))
        return report

    def select(self, samples: list[Sample]) -> Any:
        """The samples trained on, with their advantages (GRPO per role and group)."""
        return compute_advantages(samples, self.settings.advantages)

    def keep_samples(self, iteration: int, batch: RolloutBatch) -> None:
        """The iteration's samples as received (rollout.v1 lines), for audits and replays."""
        directory = self.out / "samples"
        directory.mkdir(exist_ok=True)
        path = directory / f"iteration-{iteration:06d}.jsonl"
        with open(path, "w", encoding="utf-8") as file:
            for sample in batch.samples:
                file.write(json.dumps(sample.record()) + "\n")

    def update(self, kept: list[tuple[Sample, float]]) -> dict[str, Any]:
        """PPO-clip epochs over the kept samples: gradients accumulate per sample (token-mean loss over the
        whole batch), the gradient norm is clipped, one optimizer step per epoch. Every logprob is of the
        distribution the sample was drawn from (its recorded temperature, top-k, top-p, min-p)."""
        import torch

        from .loss import ClipSettings, SampledDistribution, ppo_clip_parts, truncated_importance_weights

        settings = self.settings
        clip = ClipSettings(settings.clip_low, settings.clip_high, settings.dual_clip)
        total_tokens = sum(sample.sampled_tokens for sample, _ in kept)
        result: dict[str, Any] = {
            "loss": 0.0, "clip_fraction": 0.0, "dual_clip_fraction": 0.0, "approx_kl": 0.0,
            "trained_tokens": float(total_tokens), "trained_samples": float(len(kept)), "grad_norm": None,
            "entropy": None, "kl_to_previous": None, "ratio": {"min": None, "max": None},
            "rollout_vs_trainer": {"max_abs": None, "mean_abs": None, "tokens": 0}, "importance_weight": None,
            "skipped_steps": 0, "optimizer_steps": 0,
        }
        if total_tokens == 0:
            return result
        distributions = [SampledDistribution.of(sample.sampling) for sample, _ in kept]
        masks = [torch.tensor(sample.loss_mask, dtype=torch.float32) for sample, _ in kept]
        behaviour = [torch.tensor(sample.logprobs, dtype=torch.float32) for sample, _ in kept]
        on_policy = [sample_step(sample, self.names) == self.step and not sample.spans_versions
                     for sample, _ in kept]
        mismatch: list[float] = []

        def compare(index: int, trainer: torch.Tensor) -> None:
            """The rollout's logprobs against the trainer's under the same weights (on-policy samples)."""
            if on_policy[index]:
                selected = masks[index] > 0
                mismatch.extend((trainer.detach()[selected] - behaviour[index][selected]).abs().tolist())

        olds = list(behaviour)
        weights: list[torch.Tensor | None] = [None] * len(kept)
        if settings.recompute_old:
            capped = weighted = 0.0
            for index, (sample, _) in enumerate(kept):
                olds[index] = self.policy.logprobs(sample.tokens, start=sample.prompt_len, grad=False,
                                                   distribution=distributions[index], mask=sample.loss_mask)
                compare(index, olds[index])
                if settings.tis_cap is not None:
                    raw = torch.exp((olds[index] - behaviour[index]) * masks[index])
                    weights[index] = truncated_importance_weights(olds[index], behaviour[index], masks[index],
                                                                  settings.tis_cap)
                    capped += float(((raw > settings.tis_cap) & (masks[index] > 0)).sum())
                    weighted += float((weights[index] * masks[index]).sum())
            if settings.tis_cap is not None:
                result["importance_weight"] = {"mean": weighted / total_tokens,
                                               "capped_fraction": capped / total_tokens}
        previous: list[torch.Tensor] = []
        entropy_sum = 0.0
        ratio_min, ratio_max = math.inf, -math.inf
        for epoch in range(settings.epochs):
            self.policy.optimizer.zero_grad(set_to_none=True)
            loss = clipped = dual = kl = 0.0
            for index, (sample, advantage) in enumerate(kept):
                new, entropies = self.policy.logprobs_and_entropies(
                    sample.tokens, start=sample.prompt_len, distribution=distributions[index], mask=sample.loss_mask,
                    entropies=epoch == 0)
                if epoch == 0:
                    previous.append(new.detach())
                    entropy_sum += float((entropies * masks[index]).sum()) if entropies is not None else 0.0
                    if not settings.recompute_old:
                        compare(index, new)
                parts = ppo_clip_parts(new, olds[index], advantage, masks[index], clip, weights[index])
                (parts.loss_sum / total_tokens).backward()
                loss += parts.loss_sum.item() / total_tokens
                clipped += parts.clipped_tokens
                dual += parts.dual_clipped_tokens
                kl += parts.kl_sum
                ratio_min, ratio_max = min(ratio_min, parts.ratio_min), max(ratio_max, parts.ratio_max)
            norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters, settings.max_grad_norm or math.inf)
            result.update(loss=loss, clip_fraction=clipped / total_tokens, dual_clip_fraction=dual / total_tokens,
                          approx_kl=kl / total_tokens, grad_norm=float(norm))
            if not math.isfinite(float(norm)):
                # A non-finite gradient would turn the adapter into NaNs: this epoch makes no step.
                log.error("gradient norm is %s: epoch %d makes no optimizer step", float(norm), epoch + 1)
                result["skipped_steps"] = result.get("skipped_steps", 0) + 1
                self.policy.optimizer.zero_grad(set_to_none=True)
                continue
            self.policy.optimizer.step()
            result["optimizer_steps"] += 1
        result["entropy"] = entropy_sum / total_tokens
        result["ratio"] = {"min": ratio_min, "max": ratio_max}
        if mismatch:
            result["rollout_vs_trainer"] = {"max_abs": max(mismatch), "mean_abs": sum(mismatch) / len(mismatch),
                                            "tokens": len(mismatch)}
        # KL(previous version || new version) on the sampled tokens, the k3 estimator (non-negative).
        k3 = 0.0
        for index, (sample, _) in enumerate(kept):
            after = self.policy.logprobs(sample.tokens, start=sample.prompt_len, grad=False,
                                         distribution=distributions[index], mask=sample.loss_mask)
            delta = (after - previous[index]) * masks[index]
            k3 += float(((torch.exp(delta) - delta - 1) * masks[index]).sum())
        result["kl_to_previous"] = k3 / total_tokens
        return result

    def unload_old(self, new_step: int) -> list[str]:
        names = []
        for step in versions_to_unload(list(range(1, new_step)), new_step, self.settings.staleness):
            name = self.names.name(step)
            if name in self.vllm.models():
                self.vllm.unload_adapter(name)
                names.append(name)
        return names

    def probe(self, kept: list[tuple[Sample, float]], name: str) -> dict[str, Any]:
        """Checks the hot-load: the server's logprobs of one trained sample under the new version against
        the trainer's, and how far the new version moved from the rollout's logprobs."""
        if not kept:
            return {}
        sample = kept[0][0]
        trained = self.policy.logprobs(sample.tokens, start=sample.prompt_len, grad=False).tolist()
        served = self.vllm.score(name, sample.tokens)
        positions = [index for index, flag in enumerate(sample.loss_mask) if flag == 1]
        diffs = [abs((served[index] or 0.0) - trained[index]) for index in positions]
        shifts = [abs(trained[index] - sample.logprobs[index]) for index in positions]
        probe = {"sample_id": sample.sample_id, "tokens": sample.tokens, "positions": positions,
                 "trainer_logprobs": [trained[index] for index in positions],
                 "served_logprobs": [served[index] for index in positions],
                 "rollout_logprobs": [sample.logprobs[index] for index in positions], "version": name}
        (self.out / "probes").mkdir(exist_ok=True)
        (self.out / "probes" / f"{name}.json").write_text(json.dumps(probe) + "\n", "utf-8")
        return {"served_vs_trainer_max_abs": max(diffs, default=0.0),
                "served_vs_trainer_mean_abs": sum(diffs) / max(1, len(diffs)),
                "shift_from_rollout_mean_abs": sum(shifts) / max(1, len(shifts))}

    def report(self, iteration: int, sampled_with: str, produced: str, batch: RolloutBatch,
               fresh: list[Sample], stale: list[Sample], advantages: Any, update: dict[str, Any],
               probe: dict[str, Any], times: dict[str, float]) -> dict[str, Any]:
        def mean_reward(role: str) -> float | None:
            rewards = [sample.reward for sample in batch.samples if sample.role == role and sample.reward is not None]
            return sum(rewards) / len(rewards) if rewards else None

        rates = batch.solve_rates
        sampled_tokens = sum(sample.sampled_tokens for sample in batch.samples)
        return {
            "iteration": iteration,
            "sampled_with": sampled_with,
            "policy_version": produced,
            "steps": len(batch.steps),
            "failed_steps": len(batch.failed_steps),
            "samples": len(batch.samples),
            "replayed_samples": batch.replayed,
            "stale_samples": len(stale),
            "rejected_samples": len(batch.refused),
            "rejected": [{"sample_id": error.sample_id, "problems": error.problems} for error in batch.refused],
            "spanning_versions": sum(1 for sample in batch.samples if sample.spans_versions),
            "trained_samples": len(advantages.kept),
            "zero_variance_dropped": advantages.dropped_samples,
            "reward_mean": {role: mean_reward(role) for role in ("proposer", "solver")},
            "solve_rate_mean": sum(rates) / len(rates) if rates else None,
            "solve_rate_histogram": solve_rate_histogram(rates),
            "valid_share": batch.valid_share,
            "loss": update["loss"],
            "clip_fraction": update["clip_fraction"],
            "approx_kl": update["approx_kl"],
            "dual_clip_fraction": update["dual_clip_fraction"],
            "kl_to_previous": update["kl_to_previous"],
            "entropy": update["entropy"],
            "grad_norm": update["grad_norm"],
            "skipped_steps": update["skipped_steps"],
            "ratio": update["ratio"],
            "rollout_vs_trainer": update["rollout_vs_trainer"],
            "importance_weight": update["importance_weight"],
            "response_length": response_lengths(batch.samples),
            "tool_call_validity": tool_call_validity(batch.samples),
            "dropped_samples": len(stale) + len(batch.refused) + advantages.dropped_samples,
            "trained_tokens": update["trained_tokens"],
            "tokens_per_s": {
                "rollout": sampled_tokens / times["rollout_s"] if times["rollout_s"] > 0 else 0.0,
                "training": update["trained_tokens"] * self.settings.epochs / times["training_s"]
                if times["training_s"] > 0 else 0.0,
            },
            "time_s": {key.removesuffix("_s"): round(value, 3) for key, value in times.items()},
            "probe": probe,
            "fresh_versions": sorted({sample.policy_version for sample in fresh}),
        }


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show (unset, or a switch's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, [], argparse.SUPPRESS) or "[" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action) or ""


#: What the trainer itself imports beyond the standard library: `pip install './python[train]'`.
TRAINING_MODULES = ("torch", "transformers", "peft")


def missing_training_module() -> str | None:
    """The first training dependency that cannot be imported, or None when all can."""
    for name in TRAINING_MODULES:
        try:
            __import__(name)
        except ImportError as error:
            return getattr(error, "name", None) or name
    return None


def response_lengths(samples: list[Sample]) -> dict[str, float | None]:
    """Sampled tokens per episode (its samples together), mean and max."""
    lengths: dict[str, int] = {}
    for sample in samples:
        lengths[sample.episode_id] = lengths.get(sample.episode_id, 0) + sample.sampled_tokens
    values = list(lengths.values())
    return {"mean": sum(values) / len(values) if values else None, "max": max(values, default=None)}


def tool_call_validity(samples: list[Sample]) -> float | None:
    """The share of model turns whose tool call parsed, over the episodes that recorded their turns and
    format errors (`meta.episode_turns`, `meta.format_errors`); None when none did."""
    episodes: dict[str, tuple[int, int]] = {}
    for sample in samples:
        turns, errors = sample.meta.get("episode_turns"), sample.meta.get("format_errors")
        if isinstance(turns, int) and isinstance(errors, int) and turns > 0:
            episodes[sample.episode_id] = (turns, min(errors, turns))
    total = sum(turns for turns, _ in episodes.values())
    return 1 - sum(errors for _, errors in episodes.values()) / total if total else None


def build_parser() -> argparse.ArgumentParser:
    """The trainer's command line; other modules add their own argument groups to it."""
    parser = argparse.ArgumentParser(
        prog="python -m swe_selfplay.train",
        description="LoRA policy-gradient training on self-play rewards, with hot reload into vLLM.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--out", required=True, help="output directory: adapters, state.json, metrics.jsonl")
    parser.add_argument("--model-dir", required=True, help="the base model's Hugging Face directory")
    parser.add_argument("--base-model", required=True, help="the name vLLM serves the base model under")
    parser.add_argument("--vllm-url", help="vLLM's root URL (started with --enable-lora and --logprobs-mode "
                        "processed_logprobs); required except for a warm start (--sft), which it hot-loads into")
    parser.add_argument("--service", action="append", default=[], help="a `swe-selfplay serve` URL (repeatable)")
    parser.add_argument("--service-token-env", help="environment variable holding the services' bearer token")
    parser.add_argument("--ray-address", help="a Ray cluster whose swe_selfplay.ray deployment serves the steps")
    parser.add_argument("--follow-rollouts", action="append", default=[],
                        help="an exported rollouts directory whose new steps join each iteration (repeatable)")
    parser.add_argument("--run-config", help="without a service: play each iteration as `swe-selfplay run "
                        "--config RUN_CONFIG` with the current version as the model (both roles)")
    parser.add_argument("--cli", default="npx swe-selfplay", help="how to call the CLI for --run-config")
    parser.add_argument("--inference-url", help="base URL the service's episodes use for vLLM [VLLM_URL/v1]")
    parser.add_argument("--inference-kind", default="vllm", choices=["vllm", "sglang"],
                        help="the protocol the service's episodes speak to the inference server")
    parser.add_argument("--tool-call-format", default="hermes", choices=["hermes", "json", "text"],
                        help="how tool calls are read from the sampled text")
    parser.add_argument("--iterations", type=int, default=1, help="rollout + update + hot-load rounds")
    parser.add_argument("--steps", type=int, default=2, help="self-play steps per iteration")
    parser.add_argument("--group-size", type=int, default=2, help="solver attempts per valid artifact (G)")
    parser.add_argument("--environment", help="the service's environment to play on [the service's choice]")
    parser.add_argument("--strategy", choices=["removal", "history", "direct"],
                        help="bug-injection strategy [the service's choice]")
    parser.add_argument("--solver-only", action="store_true", help="the built-in policy proposes")
    parser.add_argument("--max-tokens", type=int, default=128, help="completion tokens per model turn")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument("--top-p", type=float, help="nucleus top-p of the steps' sampling [the client's, 0.95]")
    parser.add_argument("--top-k", type=int, help="top-k of the steps' sampling [off]")
    parser.add_argument("--staleness", type=int, default=DEFAULT_STALENESS,
                        help="k: samples older than the current version minus k are not trained on")
    parser.add_argument("--lr", type=float, default=1e-4, help="learning rate of the LoRA parameters")
    parser.add_argument("--epochs", type=int, default=1, help="PPO epochs over each iteration's samples")
    parser.add_argument("--clip-low", type=float, default=0.2, help="PPO ratio clip below 1")
    parser.add_argument("--clip-high", type=float, default=0.2, help="PPO ratio clip above 1")
    parser.add_argument("--dual-clip", type=float, default=3.0,
                        help="bound the loss of negative-advantage tokens at -C*A (C > 1; 0 switches it off)")
    parser.add_argument("--max-grad-norm", type=float, default=1.0,
                        help="clip the gradient norm (0: measure it, do not clip)")
    parser.add_argument("--recompute-old", action="store_true",
                        help="recompute pi_old with the trainer before the update and weight tokens by "
                        "min(pi_old / pi_rollout, --tis-cap)")
    parser.add_argument("--tis-cap", type=float, default=2.0,
                        help="cap of the truncated importance weights with --recompute-old (0: no weights)")
    parser.add_argument("--lora-rank", type=int, default=8, help="LoRA rank on the q/v projections")
    parser.add_argument("--lora-alpha", type=int, default=16, help="LoRA alpha")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                        help="the trainer's dtype; serve vLLM in the same one")
    parser.add_argument("--baseline", default="group", choices=["group", "none"],
                        help="group: GRPO (reward minus the group's mean); none: the reward itself")
    parser.add_argument("--no-std-normalisation", action="store_true",
                        help="advantages are not divided by the group's standard deviation")
    parser.add_argument("--keep-zero-variance", action="store_true",
                        help="keep groups whose rewards do not vary (their advantages are 0)")
    parser.add_argument("--proposer-grouping", default="batch", choices=["batch", "group"],
                        help="compare proposer samples across the batch or within their group")
    parser.add_argument("--threads", type=int, help="torch threads [torch's default]")
    parser.add_argument("--store", help="a swe-selfplay store (SQLite) to record iteration metrics in")
    parser.add_argument("--run-id", help="the store's run to record under [its newest]")
    parser.add_argument("--run-name", default="train",
                        help="prefix of the step request ids (followed by the output directory's nonce)")
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="seconds to wait for one step")
    parser.add_argument("--max-minutes", type=float, help="start no iteration after this many minutes")
    add_evaluation_arguments(parser)
    add_sft_arguments(parser)
    return parser


def settings_from_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> TrainerSettings:
    if args.sft and args.mode != "rl":
        parser.error("--sft is a warm start of its own; --mode rft samples its training data instead")
    if not args.vllm_url and not args.sft:
        parser.error("--vllm-url is required (except for a warm start with --sft)")
    rollout_source = args.service or args.follow_rollouts or args.run_config or args.ray_address
    if not rollout_source and not args.sft:
        parser.error("give at least one --service, --ray-address, --run-config or --follow-rollouts")
    try:
        sft = sft_settings_from(args)
    except ValueError as error:
        parser.error(str(error))
    if args.dual_clip and args.dual_clip <= 1:
        parser.error(f"--dual-clip must exceed 1 (or be 0 to switch it off), got {args.dual_clip}")
    inference = {"kind": args.inference_kind,
                 "base_url": args.inference_url or (args.vllm_url or "").rstrip("/") + "/v1",
                 "tool_call_format": args.tool_call_format}
    sampling: dict[str, Any] = {"max_tokens": args.max_tokens, "temperature": args.temperature}
    if args.top_p is not None:
        sampling["top_p"] = args.top_p
    if args.top_k is not None:
        sampling["top_k"] = args.top_k
    return TrainerSettings(
        out_dir=args.out, model_dir=args.model_dir, base_model=args.base_model, vllm_url=args.vllm_url,
        services=args.service,
        service_token=os.environ.get(args.service_token_env) if args.service_token_env else None,
        rollout=RolloutSettings(
            inference=inference,  # type: ignore[arg-type]
            steps_per_iteration=args.steps if args.service or args.run_config or args.ray_address else 0,
            group_size=args.group_size,
            environment=args.environment, strategy=args.strategy, solver_only=args.solver_only,
            sampling=sampling,  # type: ignore[arg-type]
            step_timeout_s=args.step_timeout, run_name=args.run_name,
        ),
        iterations=args.iterations, staleness=args.staleness, learning_rate=args.lr, epochs=args.epochs,
        clip_low=args.clip_low, clip_high=args.clip_high, dual_clip=args.dual_clip or None,
        max_grad_norm=args.max_grad_norm or None, recompute_old=args.recompute_old, tis_cap=args.tis_cap or None,
        advantages=AdvantageSettings(baseline=args.baseline, normalise_std=not args.no_std_normalisation,
                                     drop_zero_variance=not args.keep_zero_variance,
                                     proposer_grouping=args.proposer_grouping),
        dtype=args.dtype, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha, threads=args.threads,
        store=args.store, run_id=args.run_id, follow_rollouts=args.follow_rollouts, max_minutes=args.max_minutes,
        run_command=RunCommand(args.cli.split(), args.run_config, str(Path(args.out) / "runs"))
        if args.run_config else None,
        evaluation=_evaluation_settings(parser, args, inference),
        ray_address=args.ray_address,
        sft=sft, mode=args.mode,
    )


def _evaluation_settings(parser: argparse.ArgumentParser, args: argparse.Namespace,
                         inference: dict[str, Any]) -> EvaluationSettings | None:
    try:
        settings = evaluation_settings_from(args, inference, {"max_tokens": args.max_tokens,
                                                             "temperature": args.temperature})
    except ValueError as error:
        parser.error(str(error))
    if settings is not None and not args.service:
        parser.error("--eval-set needs a --service to evaluate through")
    if settings is not None and not (args.vllm_url or args.inference_url):
        parser.error("--eval-set needs --vllm-url (or --inference-url) for the evaluated version")
    return settings


def parse_arguments(argv: list[str] | None = None) -> TrainerSettings:
    parser = build_parser()
    return settings_from_arguments(parser, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("SWE_SELFPLAY_LOG", "INFO").upper(), stream=sys.stderr,
                        format="[train] %(message)s")
    settings = parse_arguments(argv)
    missing = missing_training_module()
    if missing is not None:
        print(f"swe_selfplay.train: the trainer needs {', '.join(TRAINING_MODULES)}, and {missing} cannot be "
              f"imported by {sys.executable}: install them with pip install './python[train]' "
              "(or run scripts/prepare-trainer.sh and use its SWE_SELFPLAY_TRAINER_PYTHON)", file=sys.stderr)
        return 2
    if settings.sft is not None and settings.sft.file:
        from .sft import main as warm_start

        return warm_start(settings)
    if settings.mode == "rft":
        from .rft import RejectionSamplingTrainer

        trainer: Trainer = RejectionSamplingTrainer(settings)
    else:
        trainer = Trainer(settings)
    try:
        reports = trainer.run()
    except ServiceUnavailable as error:
        # Nothing is lost: the last saved version stays in state.json and the next start resumes there.
        log.error("service unavailable during iteration %d: %s; resume by starting again", trainer.step + 1, error)
        return 3
    print(json.dumps({"step": trainer.step, "version": trainer.names.name(trainer.step),
                      "iterations": [report["iteration"] for report in reports]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
