"""One GRPO step of TRL's own GRPOTrainer (TRL from PyPI, on CPU) on a real self-play step: the rollout
function (swe_selfplay.adapters.trl.SsrRollout) asks a real `swe-selfplay serve` for a solver-only step
(the built-in proposer breaks the example repository, the policy solves through vLLM serving the same base
model TRL trains), and TRL trains on the samples' tokens, logprobs and SSR rewards as played.

Prints one JSON line: what TRL was given (roles, rewards, lengths), what it logged, and whether the LoRA
weights moved. Used by test/train/engines-game.test.ts."""

import argparse
import json
import sys
import tempfile

import torch
import trl
from datasets import Dataset
from peft import LoraConfig

from swe_selfplay.adapters.trl import SsrRollout, ssr_solver_reward


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True)
    parser.add_argument("--base-url", required=True, help="vLLM's OpenAI base URL, with /v1")
    parser.add_argument("--served-model", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--inference-kind", default="vllm")
    args = parser.parse_args()

    rollout = SsrRollout(services=[args.service], group_size=2, solver_only=True,
                         inference={"kind": args.inference_kind, "base_url": args.base_url, "model": args.served_model},
                         sampling={"max_tokens": args.max_tokens, "temperature": 0.7, "top_p": 0.95})
    given: list[dict] = []

    def recording(prompts, trainer):
        out = rollout(prompts, trainer)
        given.append(out)
        return out

    with tempfile.TemporaryDirectory() as out_dir:
        # One sequence per forward pass (the step's samples are thousands of tokens), three per optimizer step.
        config = trl.GRPOConfig(output_dir=out_dir, per_device_train_batch_size=1, gradient_accumulation_steps=3,
                                num_generations=3, max_steps=1,
                                max_completion_length=args.max_tokens, learning_rate=1e-2, logging_steps=1,
                                report_to=[], use_cpu=True, bf16=False, save_strategy="no", seed=1)
        trainer = trl.GRPOTrainer(model=args.model_dir, reward_funcs=ssr_solver_reward, rollout_func=recording,
                                  args=config,
                                  train_dataset=Dataset.from_list([{"prompt": "play one self-play step"}] * 3),
                                  peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
        before = {name: param.detach().clone() for name, param in trainer.model.named_parameters()
                  if "lora_B" in name}
        trainer.train()
        moved = any(not torch.equal(param.detach(), before[name]) for name, param in trainer.model.named_parameters()
                    if "lora_B" in name)
    [out] = given
    print(json.dumps({
        "global_step": trainer.state.global_step,
        "logged": trainer.state.log_history[0],
        "roles": out["swe_selfplay_role"],
        "rewards": out["swe_selfplay_reward"],
        "failures": out["swe_selfplay_failure"],
        "completion_lengths": [len(ids) for ids in out["completion_ids"]],
        "sampled_tokens": [sum(mask) for mask in out["env_mask"]],
        "observed_tokens": [len(mask) - sum(mask) for mask in out["env_mask"]],
        "logprobs_sampled": [[lp for lp, m in zip(lps, mask) if m][:3] for lps, mask in
                             zip(out["logprobs"], out["env_mask"])],
        "lora_moved": moved,
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
