"""Warm start: supervised fine-tuning of the same LoRA policy the RL path trains (`--sft FILE`).

The loss is the negative log-likelihood of the assistant's tokens only (token mean over each batch), with the
sequences tokenised as the RL path tokenises them (`sft_data`). Batches are filled up to a token budget; one
optimizer step per batch; the gradient norm is clipped like the RL path's. The result is saved as the next
version in the trainer's output directory (`adapters/policy-vN`, `state.json`), so an RL run with the same
`--out` continues from it; it is hot-loaded into vLLM when one is given and evaluated with `--eval-set`.

Resumable per epoch: after each epoch the adapter and optimizer state go to `sft/checkpoint` and the epoch's
figures to `sft/progress.json`; a restarted run with the same file continues after the last finished epoch,
and a file already trained on (its sha256 is kept in `state.json`) is not trained on again."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ServiceError
from .metrics import append_jsonl, record_in_store
from .sft_data import SftData, SftExample, SftLineError, read_sft_file

if TYPE_CHECKING:
    from .train import TrainerSettings

log = logging.getLogger("swe_selfplay.sft")


@dataclass
class SftSettings:
    #: The SFT file (messages or token lines); None in rejection-sampling mode, which trains on its samples.
    file: str | None = None
    epochs: int = 2
    #: Tokens per optimizer step (whole sequences; a longer sequence is a batch of its own).
    batch_tokens: int = 4096
    max_length: int = 4096
    #: What to do with a longer sequence: "skip" it or "truncate" it (counted either way).
    overlong: str = "skip"
    seed: int = 0
    shuffle: bool = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("warm start (supervised fine-tuning) and rejection sampling")
    group.add_argument("--sft", metavar="FILE", help="fine-tune on an SFT file (messages or token lines) and "
                       "save the result as the next version, instead of RL iterations")
    group.add_argument("--mode", default="rl", choices=["rl", "rft"],
                       help="rl: policy-gradient iterations; rft: rejection sampling (fine-tune on the "
                       "resolved attempts of each iteration's steps)")
    group.add_argument("--sft-epochs", type=int, default=2, help="passes over the SFT data (or an rft batch)")
    group.add_argument("--sft-batch-tokens", type=int, default=4096, help="tokens per optimizer step")
    group.add_argument("--sft-max-length", type=int, default=4096, help="longest sequence trained on")
    group.add_argument("--sft-overlong", default="skip", choices=["skip", "truncate"],
                       help="a longer sequence is skipped or cut (counted either way)")
    group.add_argument("--sft-seed", type=int, default=0, help="seed of the per-epoch shuffle")
    group.add_argument("--no-sft-shuffle", action="store_true", help="keep the file's order in every epoch")


def settings_from(args: argparse.Namespace) -> SftSettings:
    for name in ("sft_epochs", "sft_batch_tokens", "sft_max_length"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return SftSettings(file=args.sft, epochs=args.sft_epochs, batch_tokens=args.sft_batch_tokens,
                       max_length=args.sft_max_length, overlong=args.sft_overlong, seed=args.sft_seed,
                       shuffle=not args.no_sft_shuffle)


def epoch_order(count: int, seed: int, epoch: int, shuffle: bool) -> list[int]:
    """The examples' order in one epoch: the same for the same seed and epoch (so a resumed run repeats it)."""
    order = list(range(count))
    if shuffle:
        random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


def token_batches(examples: list[SftExample], order: list[int], budget: int) -> list[list[int]]:
    """Consecutive examples (in `order`) grouped so that each group's tokens stay within the budget."""
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index in order:
        length = len(examples[index].tokens)
        if current and size + length > budget:
            batches.append(current)
            current, size = [], 0
        current.append(index)
        size += length
    if current:
        batches.append(current)
    return batches


def sequence_nll(policy: Any, example: SftExample, grad: bool = True) -> Any:
    """The summed negative log-likelihood of the example's masked tokens under the policy (a 0-d tensor);
    only the positions from the first masked token on are computed."""
    import torch

    logprobs = policy.logprobs(example.tokens, start=example.mask.index(1), grad=grad, mask=example.mask)
    return -(logprobs * torch.tensor(example.mask, dtype=logprobs.dtype)).sum()


def nll_epoch(policy: Any, examples: list[SftExample], order: list[int], batch_tokens: int,
              max_grad_norm: float | None) -> dict[str, Any]:
    """One pass: per batch, the token-mean NLL of its labelled tokens, backward per sequence, one clipped
    optimizer step (none when the gradient is not finite). Returns the epoch's mean loss and counts."""
    import torch

    loss_sum = 0.0
    labelled = steps = skipped = 0
    norms: list[float] = []
    for batch in token_batches(examples, order, batch_tokens):
        total = sum(examples[index].labelled for index in batch)
        policy.optimizer.zero_grad(set_to_none=True)
        for index in batch:
            nll = sequence_nll(policy, examples[index])
            (nll / total).backward()
            loss_sum += nll.item()
        labelled += total
        norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters, max_grad_norm or math.inf))
        if not math.isfinite(norm):
            log.error("gradient norm is %s: this batch makes no optimizer step", norm)
            policy.optimizer.zero_grad(set_to_none=True)
            skipped += 1
            continue
        norms.append(norm)
        policy.optimizer.step()
        steps += 1
    return {"loss": loss_sum / labelled if labelled else None, "labelled_tokens": labelled,
            "optimizer_steps": steps, "skipped_steps": skipped, "grad_norm": max(norms, default=None)}


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=2) + "\n", "utf-8")
    os.replace(partial, path)


def load_data(settings: "TrainerSettings") -> SftData:
    """The SFT file's examples, with the model directory's tokenizer (loaded only for messages lines)."""
    assert settings.sft is not None and settings.sft.file is not None
    config = Path(settings.model_dir) / "config.json"
    vocabulary = json.loads(config.read_text("utf-8")).get("vocab_size") if config.is_file() else None

    def tokenizer() -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(settings.model_dir)

    return read_sft_file(settings.sft.file, tokenizer, max_length=settings.sft.max_length,
                         overlong=settings.sft.overlong, vocabulary=vocabulary)


class WarmStart:
    """One supervised fine-tuning run, which becomes one iteration (and one version) of the output directory."""

    def __init__(self, settings: "TrainerSettings"):
        from .train import TrainerState, forget_unfinished_iterations
        from .versions import VersionNames

        assert settings.sft is not None and settings.sft.file is not None
        self.settings, self.sft = settings, settings.sft
        self.out = Path(settings.out_dir)
        self.names = VersionNames(settings.base_model, settings.version_prefix)
        self.state = TrainerState(self.out)
        state = self.state.read()
        self.step, self.iteration_done = int(state.get("step", 0)), int(state.get("iteration", 0))
        forget_unfinished_iterations(self.out / "metrics.jsonl", self.iteration_done)
        self.digest = file_digest(self.sft.file)
        self.done = next((entry for entry in state.get("warm_starts", []) if entry.get("sha256") == self.digest),
                         None)
        self.directory = self.out / "sft"
        self.progress_path = self.directory / "progress.json"

    def progress(self) -> dict[str, Any]:
        """The unfinished run's epochs, when it is this file's, from this version and with these settings."""
        if not self.progress_path.is_file():
            return {}
        progress = json.loads(self.progress_path.read_text("utf-8"))
        same = (progress.get("sha256") == self.digest and progress.get("from_step") == self.step
                and progress.get("settings") == asdict(self.sft) and (self.directory / "checkpoint").is_dir())
        if not same:
            log.info("an unfinished warm start of another file, version or settings is discarded")
            return {}
        return progress

    def run(self) -> dict[str, Any]:
        if self.done is not None:
            shutil.rmtree(self.directory, ignore_errors=True)  # a run killed after its state.json was written
            log.info("%s (sha256 %s) was already trained on: %s; nothing to do (use another --out to train on "
                     "it again)", self.sft.file, self.digest[:12], self.done.get("version"))
            return {"already_trained": True, **self.done}
        data = load_data(self.settings)
        if not data.examples:
            raise ValueError(f"{self.sft.file}: no line to train on ({data.lines} lines, {data.skipped} longer "
                             f"than --sft-max-length {self.sft.max_length})")
        progress = self.progress() or {"sha256": self.digest, "from_step": self.step,
                                       "settings": asdict(self.sft), "epochs": []}
        policy = self.policy(resume=bool(progress["epochs"]))
        self.directory.mkdir(parents=True, exist_ok=True)
        for epoch in range(len(progress["epochs"]), self.sft.epochs):
            started = time.monotonic()
            order = epoch_order(len(data.examples), self.sft.seed, epoch, self.sft.shuffle)
            result = nll_epoch(policy, data.examples, order, self.sft.batch_tokens, self.settings.max_grad_norm)
            result["time_s"] = round(time.monotonic() - started, 3)
            policy.save(self.directory / "checkpoint", {"epoch": epoch + 1, "sha256": self.digest})
            progress["epochs"].append(result)
            _write_json(self.progress_path, progress)
            log.info("warm start epoch %d/%d: loss %s over %d tokens", epoch + 1, self.sft.epochs,
                     result["loss"], result["labelled_tokens"])
        if not any(epoch["optimizer_steps"] for epoch in progress["epochs"]):
            raise RuntimeError("every batch of the warm start had a non-finite gradient: no version saved")
        return self.finish(policy, data, progress)

    def policy(self, resume: bool) -> Any:
        from .policy import LoraPolicy, LoraSettings, PolicySettings

        settings = self.settings
        adapter = (self.directory / "checkpoint" if resume
                   else self.out / "adapters" / self.names.name(self.step) if self.step > 0 else None)
        if adapter is not None and not adapter.is_dir():
            raise FileNotFoundError(f"state.json names step {self.step}, but {adapter} is missing")
        return LoraPolicy(PolicySettings(model_dir=settings.model_dir, dtype=settings.dtype,
                                         lora=LoraSettings(rank=settings.lora_rank, alpha=settings.lora_alpha),
                                         learning_rate=settings.learning_rate, threads=settings.threads),
                          adapter_dir=adapter)

    def finish(self, policy: Any, data: SftData, progress: dict[str, Any]) -> dict[str, Any]:
        """Saves the next version, hot-loads and evaluates it, writes the metrics, then state.json."""
        from .evaluation import evaluate, figures_metrics
        from .inference import VllmAdmin
        from .versions import versions_to_unload

        iteration, step = self.iteration_done + 1, self.step + 1
        name = self.names.name(step)
        started = time.monotonic()
        policy.save(self.out / "adapters" / name, {"name": name, "step": step, "iteration": iteration,
                                                   "sft": {"file": str(self.sft.file), "sha256": self.digest}})
        if self.settings.vllm_url:
            vllm = VllmAdmin(self.settings.vllm_url)
            served = vllm.models()
            vllm.load_adapter(name, str(self.out / "adapters" / name), replace=name in served)
            for old in versions_to_unload(list(range(1, step)), step, self.settings.staleness):
                if self.names.name(old) in served:
                    vllm.unload_adapter(self.names.name(old))
        hotload_s = time.monotonic() - started
        report = self.report(iteration, name, data, progress["epochs"], hotload_s)
        if self.settings.evaluation is not None:
            from .client import ReplicaPool

            pool = ReplicaPool.of_urls(self.settings.services, token=self.settings.service_token)
            report["eval"] = figures_metrics(evaluate(pool, self.settings.evaluation, name))
        append_jsonl(self.out / "metrics.jsonl", report)
        if self.settings.store:
            self.settings.run_id = record_in_store(self.settings.store, self.settings.run_id, iteration, name, report)
        state = self.state.read()
        done = {"sha256": self.digest, "file": str(self.sft.file), "version": name, "iteration": iteration}
        state.update(step=step, version=name, iteration=iteration,
                     warm_starts=[*state.get("warm_starts", []), done])
        self.state.write(state)
        shutil.rmtree(self.directory, ignore_errors=True)  # the checkpoint and progress of the finished run
        self.step, self.iteration_done = step, iteration
        return report

    def report(self, iteration: int, name: str, data: SftData, epochs: list[dict[str, Any]],
               hotload_s: float) -> dict[str, Any]:
        training_s = sum(epoch["time_s"] for epoch in epochs)
        trained = sum(epoch["labelled_tokens"] for epoch in epochs)
        return {
            "iteration": iteration, "mode": "sft", "sampled_with": None, "policy_version": name,
            "new_version": True, "loss": epochs[-1]["loss"], "trained_tokens": trained,
            "grad_norm": epochs[-1]["grad_norm"],
            "skipped_steps": sum(epoch["skipped_steps"] for epoch in epochs),
            "sft": {"file": str(self.sft.file), "sha256": self.digest, "lines": data.lines,
                    "examples": len(data.examples), "tokens": data.tokens, "labelled_tokens": data.labelled,
                    "truncated": data.truncated, "skipped_overlong": data.skipped, "epochs": len(epochs),
                    "loss_by_epoch": {str(index + 1): epoch["loss"] for index, epoch in enumerate(epochs)},
                    "optimizer_steps": sum(epoch["optimizer_steps"] for epoch in epochs)},
            "tokens_per_s": {"training": trained / training_s if training_s > 0 else 0.0},
            "time_s": {"training": round(training_s, 3), "hotload": round(hotload_s, 3),
                       "by_epoch": {str(index + 1): epoch["time_s"] for index, epoch in enumerate(epochs)}},
        }


def main(settings: "TrainerSettings") -> int:
    """`--sft FILE`: one supervised fine-tuning run saved as the next version; a bad line ends it with code 2."""
    try:
        report = WarmStart(settings).run()
    except (SftLineError, ValueError, FileNotFoundError) as error:
        print(f"swe_selfplay.train: {error}", file=sys.stderr)
        return 2
    except ServiceError as error:
        # The epochs are kept (sft/progress.json): a new start only hot-loads, evaluates and records.
        log.error("%s; start again to finish the warm start (its training is kept)", error)
        return 3
    print(json.dumps({"version": report.get("policy_version") or report.get("version"),
                      "iteration": report.get("iteration"), "already_trained": bool(report.get("already_trained")),
                      "loss_by_epoch": report.get("sft", {}).get("loss_by_epoch")}))
    return 0
