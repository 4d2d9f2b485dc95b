"""The reference trainer: `python -m swe_selfplay.train`.

Each iteration: request self-play steps with the current version as the served model (rollout), drop stale
and broken samples, form per-role, per-group advantages, take a PPO-clip step on the LoRA parameters
against the rollout logprobs (training), save the adapter as the next version, hot-load it into vLLM and
unload versions beyond the staleness window (hot-load), then write the iteration's metrics. `state.json`
in the output directory names the last saved version; a restarted trainer resumes from it, and its step
requests reuse the same request ids, so a step already played is returned again, never played twice."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .advantages import AdvantageSettings, compute_advantages
from .client import ReplicaPool
from .errors import ServiceUnavailable
from .inference import VllmAdmin
from .metrics import append_jsonl, record_in_store, solve_rate_histogram
from .rollout_stage import RolloutBatch, RolloutSettings, RunCommand, acknowledge, collect
from .rollouts import RolloutDirectory
from .samples import Sample
from .versions import DEFAULT_STALENESS, VersionNames, split_stale, versions_to_unload

log = logging.getLogger("swe_selfplay.train")


@dataclass
class TrainerSettings:
    out_dir: str
    model_dir: str
    #: The name vLLM serves the base model under (version 0).
    base_model: str
    vllm_url: str
    services: list[str]
    rollout: RolloutSettings
    iterations: int = 1
    staleness: int = DEFAULT_STALENESS
    learning_rate: float = 1e-4
    epochs: int = 1
    clip_low: float = 0.2
    clip_high: float = 0.2
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
    #: A Ray cluster whose `swe_selfplay.ray` deployment serves the steps (instead of, or besides, `services`).
    ray_address: str | None = None


class TrainerState:
    """`state.json`: the last saved version step (0 = base model), written atomically."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / "state.json"

    def read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"step": 0}
        return json.loads(self.path.read_text("utf-8"))

    def write(self, state: dict[str, Any]) -> None:
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(state, indent=2) + "\n", "utf-8")
        os.replace(partial, self.path)


class Trainer:
    def __init__(self, settings: TrainerSettings):
        from .policy import LoraPolicy, LoraSettings, PolicySettings

        self.settings = settings
        self.out = Path(settings.out_dir)
        (self.out / "adapters").mkdir(parents=True, exist_ok=True)
        self.names = VersionNames(settings.base_model, settings.version_prefix)
        self.state = TrainerState(self.out)
        self.step = int(self.state.read().get("step", 0))
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
        self.vllm = VllmAdmin(settings.vllm_url)
        self.pool = (
            ReplicaPool.of_urls(settings.services, token=settings.service_token) if settings.services else None
        )
        if settings.ray_address:
            self.pool = ReplicaPool.from_ray(settings.ray_address, token=settings.service_token)
        self.followed = [RolloutDirectory(path) for path in settings.follow_rollouts]
        if self.step > 0:
            log.info("resuming at %s", self.names.name(self.step))
            self.ensure_served(self.step)

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
        iteration = self.step + 1
        current = self.names.name(self.step)
        started = time.monotonic()
        batch = collect(self.pool, self.settings.rollout, iteration, current, self.step, self.followed,
                        self.settings.run_command)
        rollout_s = time.monotonic() - started
        self.keep_samples(iteration, batch)
        fresh, stale = split_stale(batch.samples, self.step, self.names, self.settings.staleness)
        for sample in stale:
            log.info("stale sample %s (version %s) not trained on", sample.sample_id, sample.policy_version)
        advantages = compute_advantages(fresh, self.settings.advantages)
        started = time.monotonic()
        update = self.update(advantages.kept)
        training_s = time.monotonic() - started
        started = time.monotonic()
        new_step = self.step + 1
        name = self.names.name(new_step)
        self.policy.save(self.adapter_dir(new_step), {"name": name, "step": new_step, "iteration": iteration})
        self.vllm.load_adapter(name, str(self.adapter_dir(new_step)), replace=name in self.vllm.models())
        unloaded = self.unload_old(new_step)
        hotload_s = time.monotonic() - started
        probe = self.probe(advantages.kept, name)
        self.step = new_step
        self.state.write({"step": new_step, "version": name, "iteration": iteration})
        acknowledge(self.pool, batch)
        report = self.report(iteration, current, name, batch, fresh, stale, advantages, update, probe,
                             {"rollout_s": rollout_s, "training_s": training_s, "hotload_s": hotload_s})
        report["unloaded"] = unloaded
        append_jsonl(self.out / "metrics.jsonl", report)
        if self.settings.store:
            self.settings.run_id = record_in_store(self.settings.store, self.settings.run_id, iteration, name, report)
        log.info("iteration %d: %s", iteration, json.dumps({key: report[key] for key in ("reward_mean", "loss")}))
        return report

    def keep_samples(self, iteration: int, batch: RolloutBatch) -> None:
        """The iteration's samples as received (rollout.v1 lines), for audits and replays."""
        directory = self.out / "samples"
        directory.mkdir(exist_ok=True)
        path = directory / f"iteration-{iteration:06d}.jsonl"
        with open(path, "w", encoding="utf-8") as file:
            for sample in batch.samples:
                file.write(json.dumps(sample.record()) + "\n")

    def update(self, kept: list[tuple[Sample, float]]) -> dict[str, float]:
        """PPO-clip epochs over the kept samples: gradients accumulate per sample (token-mean loss over
        the whole batch), one optimizer step per epoch."""
        import torch

        from .loss import ClipSettings, ppo_clip_parts

        clip = ClipSettings(self.settings.clip_low, self.settings.clip_high)
        total_tokens = sum(sample.sampled_tokens for sample, _ in kept)
        result = {"loss": 0.0, "clip_fraction": 0.0, "approx_kl": 0.0, "trained_tokens": float(total_tokens),
                  "trained_samples": float(len(kept))}
        if total_tokens == 0:
            return result
        for _ in range(self.settings.epochs):
            self.policy.optimizer.zero_grad(set_to_none=True)
            loss = clipped = kl = 0.0
            for sample, advantage in kept:
                new = self.policy.logprobs(sample.tokens, start=sample.prompt_len)
                old = torch.tensor(sample.logprobs, dtype=new.dtype)
                mask = torch.tensor(sample.loss_mask, dtype=new.dtype)
                parts = ppo_clip_parts(new, old, advantage, mask, clip)
                (parts.loss_sum / total_tokens).backward()
                loss += parts.loss_sum.item() / total_tokens
                clipped += parts.clipped_tokens
                kl += parts.kl_sum
            self.policy.optimizer.step()
            result.update(loss=loss, clip_fraction=clipped / total_tokens, approx_kl=kl / total_tokens)
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
               fresh: list[Sample], stale: list[Sample], advantages: Any, update: dict[str, float],
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


def parse_arguments(argv: list[str] | None = None) -> TrainerSettings:
    parser = argparse.ArgumentParser(
        prog="python -m swe_selfplay.train",
        description="LoRA policy-gradient training on self-play rewards, with hot reload into vLLM.",
    )
    parser.add_argument("--out", required=True, help="output directory: adapters, state.json, metrics.jsonl")
    parser.add_argument("--model-dir", required=True, help="the base model's Hugging Face directory")
    parser.add_argument("--base-model", required=True, help="the name vLLM serves the base model under")
    parser.add_argument("--vllm-url", required=True, help="vLLM's root URL (started with --enable-lora)")
    parser.add_argument("--service", action="append", default=[], help="a `swe-selfplay serve` URL (repeatable)")
    parser.add_argument("--service-token-env", help="environment variable holding the services' bearer token")
    parser.add_argument("--ray-address", help="a Ray cluster whose swe_selfplay.ray deployment serves the steps")
    parser.add_argument("--follow-rollouts", action="append", default=[],
                        help="an exported rollouts directory whose new steps join each iteration (repeatable)")
    parser.add_argument("--run-config", help="without a service: play each iteration as `swe-selfplay run "
                        "--config RUN_CONFIG` with the current version as the model (both roles)")
    parser.add_argument("--cli", default="npx swe-selfplay", help="how to call the CLI for --run-config")
    parser.add_argument("--inference-url", help="base URL the service's episodes use for vLLM [VLLM_URL/v1]")
    parser.add_argument("--inference-kind", default="vllm", choices=["vllm", "sglang"])
    parser.add_argument("--tool-call-format", default="hermes", choices=["hermes", "json", "text"])
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2, help="self-play steps per iteration")
    parser.add_argument("--group-size", type=int, default=2)
    parser.add_argument("--environment")
    parser.add_argument("--strategy", choices=["removal", "history", "direct"])
    parser.add_argument("--solver-only", action="store_true", help="the built-in policy proposes")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--staleness", type=int, default=DEFAULT_STALENESS)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--clip-low", type=float, default=0.2)
    parser.add_argument("--clip-high", type=float, default=0.2)
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument("--lora-alpha", type=int, default=16)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--baseline", default="group", choices=["group", "none"],
                        help="group: GRPO (reward minus the group's mean); none: the reward itself")
    parser.add_argument("--no-std-normalisation", action="store_true")
    parser.add_argument("--keep-zero-variance", action="store_true")
    parser.add_argument("--proposer-grouping", default="batch", choices=["batch", "group"])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--store", help="a swe-selfplay store (SQLite) to record iteration metrics in")
    parser.add_argument("--run-id", help="the store's run to record under [its newest]")
    parser.add_argument("--run-name", default="train", help="prefix of the step request ids")
    parser.add_argument("--step-timeout", type=float, default=3600.0)
    parser.add_argument("--max-minutes", type=float, help="start no iteration after this many minutes")
    args = parser.parse_args(argv)
    if not args.service and not args.follow_rollouts and not args.run_config and not args.ray_address:
        parser.error("give at least one --service, --ray-address, --run-config or --follow-rollouts")
    inference = {"kind": args.inference_kind, "base_url": args.inference_url or args.vllm_url.rstrip("/") + "/v1",
                 "tool_call_format": args.tool_call_format}
    return TrainerSettings(
        out_dir=args.out, model_dir=args.model_dir, base_model=args.base_model, vllm_url=args.vllm_url,
        services=args.service,
        service_token=os.environ.get(args.service_token_env) if args.service_token_env else None,
        rollout=RolloutSettings(
            inference=inference,  # type: ignore[arg-type]
            steps_per_iteration=args.steps if args.service or args.run_config or args.ray_address else 0,
            group_size=args.group_size,
            environment=args.environment, strategy=args.strategy, solver_only=args.solver_only,
            sampling={"max_tokens": args.max_tokens, "temperature": args.temperature},
            step_timeout_s=args.step_timeout, run_name=args.run_name,
        ),
        iterations=args.iterations, staleness=args.staleness, learning_rate=args.lr, epochs=args.epochs,
        clip_low=args.clip_low, clip_high=args.clip_high,
        advantages=AdvantageSettings(baseline=args.baseline, normalise_std=not args.no_std_normalisation,
                                     drop_zero_variance=not args.keep_zero_variance,
                                     proposer_grouping=args.proposer_grouping),
        dtype=args.dtype, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha, threads=args.threads,
        store=args.store, run_id=args.run_id, follow_rollouts=args.follow_rollouts, max_minutes=args.max_minutes,
        run_command=RunCommand(args.cli.split(), args.run_config, str(Path(args.out) / "runs"))
        if args.run_config else None,
        ray_address=args.ray_address,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("SWE_SELFPLAY_LOG", "INFO").upper(), stream=sys.stderr,
                        format="[train] %(message)s")
    settings = parse_arguments(argv)
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
