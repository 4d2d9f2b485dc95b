"""The trained policy: a causal language model with a peft LoRA adapter on top. Computes the logprob of
every token of a sample, saves the adapter (and optimizer state) as a version directory, and loads one back
to resume."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .loss import SampledDistribution, picked_logprobs, token_entropies


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")


@dataclass
class PolicySettings:
    model_dir: str
    #: Must match the inference server's dtype, or the rollout logprobs and the trainer's drift apart.
    dtype: str = "float32"
    lora: LoraSettings = field(default_factory=LoraSettings)
    learning_rate: float = 1e-4
    threads: int | None = None


class LoraPolicy:
    def __init__(self, settings: PolicySettings, adapter_dir: str | os.PathLike[str] | None = None):
        from peft import LoraConfig, PeftModel, get_peft_model
        from transformers import AutoModelForCausalLM

        if settings.threads:
            torch.set_num_threads(settings.threads)
        self.settings = settings
        dtype = getattr(torch, settings.dtype)
        base = AutoModelForCausalLM.from_pretrained(settings.model_dir, dtype=dtype)
        if adapter_dir is not None:
            self.model = PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=True)
        else:
            config = LoraConfig(
                r=settings.lora.rank,
                lora_alpha=settings.lora.alpha,
                lora_dropout=settings.lora.dropout,
                target_modules=list(settings.lora.target_modules),
                task_type="CAUSAL_LM",
            )
            self.model = get_peft_model(base, config)
        # Dropout off for good: the logprobs of the ratio and of the loss must be of one deterministic
        # function of the weights (gradients flow the same in eval mode).
        self.model.eval()
        self.parameters = [parameter for parameter in self.model.parameters() if parameter.requires_grad]
        self.optimizer = torch.optim.AdamW(self.parameters, lr=settings.learning_rate, weight_decay=0.0)
        if adapter_dir is not None and (Path(adapter_dir) / "optimizer.pt").is_file():
            self.optimizer.load_state_dict(torch.load(Path(adapter_dir) / "optimizer.pt", weights_only=True))
            # The saved state carries the learning rate it was made with (a warm start's, say): this run's wins.
            for group in self.optimizer.param_groups:
                group["lr"] = settings.learning_rate

    def trainable_parameters(self) -> int:
        return sum(parameter.numel() for parameter in self.parameters)

    def logprobs(self, tokens: list[int], start: int = 1, grad: bool = True,
                 distribution: SampledDistribution | None = None, mask: list[int] | None = None) -> torch.Tensor:
        """Per-token logprobs of one sequence ([T]) under the sampled distribution (temperature 1 and no
        filter unless given), 0 before `start`; only the logits from `start - 1` on are computed (a long
        prompt's vocabulary-sized logits would dominate memory otherwise). With `mask`, only the positions
        it marks are scored (the others are 0): the distribution's filters sort the vocabulary per position."""
        return self.logprobs_and_entropies(tokens, start, grad, distribution, mask)[0]

    def logprobs_and_entropies(self, tokens: list[int], start: int = 1, grad: bool = True,
                               distribution: SampledDistribution | None = None, mask: list[int] | None = None,
                               entropies: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The logprobs as `logprobs()`, and with `entropies` each scored position's entropy ([T], 0
        elsewhere) from the same forward pass."""
        start = max(1, start)
        ids = torch.tensor([tokens], dtype=torch.long)
        keep = len(tokens) - start + 1
        selected = torch.ones(keep - 1, dtype=torch.bool) if mask is None else torch.tensor(mask[start:]) > 0
        rows = selected.nonzero().squeeze(-1)
        with torch.set_grad_enabled(grad):
            logits = self.model(input_ids=ids, logits_to_keep=keep).logits[0]
            # Row i of `logits` predicts token start + i (the last row predicts nothing in the sequence).
            predicting = logits[:-1][rows]
            picked = picked_logprobs(predicting, ids[0, start:][rows], distribution)
            scored = logits.new_zeros(keep - 1, dtype=picked.dtype).index_put((rows,), picked)
            values = torch.cat([scored.new_zeros(start), scored])
        spread = None
        if entropies:
            entropy = token_entropies(predicting, distribution)
            spread = torch.cat([values.new_zeros(start),
                                values.new_zeros(keep - 1).index_put((rows,), entropy).detach()])
        return values, spread

    def save(self, directory: str | os.PathLike[str], extra: dict | None = None) -> Path:
        """Writes the adapter, its optimizer state and `version.json` atomically (a temporary directory
        renamed into place), so a crash never leaves a half-written version behind."""
        directory = Path(directory)
        partial = directory.with_name(directory.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        self.model.save_pretrained(str(partial))
        torch.save(self.optimizer.state_dict(), partial / "optimizer.pt")
        (partial / "version.json").write_text(
            json.dumps({"lora": asdict(self.settings.lora), **(extra or {})}, indent=2) + "\n", "utf-8"
        )
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(partial, directory)
        return directory
