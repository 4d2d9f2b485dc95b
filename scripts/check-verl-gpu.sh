#!/usr/bin/env bash
# Checks the verl path where a CPU cannot: verl's own trainer (python -m verl.trainer.main_ppo) runs a few
# GRPO steps with its vLLM rollout servers, weight sync and FSDP actor on a GPU, with the agent loop
# registered from docs/engines/verl-agent-loop.yaml and its steps played by a real `swe-selfplay serve` on the
# shipped example (Qwen2.5-Coder-0.5B-Instruct from scripts/prepare-vllm.sh, group size 2, rollout.n 3).
#
# Without an NVIDIA GPU (nvidia-smi lists none) it says so and exits 0: nothing is checked.
# On a GPU it makes (once, cached) a venv with verl[vllm]==$VERL_VERSION (verl pins its torch and vLLM) and
# ./python[verl], then exits with the trainer's status; the trainer's log is in <work>/main_ppo.log.
#
# Environment: SWE_SELFPLAY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay),
# SWE_SELFPLAY_VERL_GPU_STEPS [2], SWE_SELFPLAY_VERL_GPU_WORK (default: a temporary directory).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
log() { echo "[check-verl-gpu] $*" >&2; }

verl_version=0.9.1
steps="${SWE_SELFPLAY_VERL_GPU_STEPS:-2}"

gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  gpus="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)"
fi
if [ "$gpus" -eq 0 ]; then
  echo "check-verl-gpu: this check needs an NVIDIA GPU and nvidia-smi lists none here; nothing was checked." \
    "Run it on a GPU machine (docs/training.md, verl)."
  exit 0
fi
log "$gpus GPU(s) found"

cache="${SWE_SELFPLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay}"
# The model (and the vLLM CPU venv it comes with; only the model is used here).
eval "$(bash "$here/prepare-vllm.sh" | tail -n 2)"
model="$SWE_SELFPLAY_VLLM_MODEL"

venv="$cache/verl-gpu/verl-$verl_version"
mkdir -p "$cache/verl-gpu"
if [ ! -f "$venv/.ready" ]; then
  log "creating $venv (verl[vllm]==$verl_version with the torch and vLLM it pins)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip --disable-pip-version-check --no-input -q install "verl[vllm]==$verl_version" \
    "aiohttp>=3.9" pandas pyarrow
  touch "$venv/.ready"
fi
python="$venv/bin/python"

work="${SWE_SELFPLAY_VERL_GPU_WORK:-$(mktemp -d)}"
mkdir -p "$work"
log "working in $work"

# The service on the shipped example, on loopback.
node "$root/bin/swe-selfplay.js" serve --store "$work/store.db" --listen 127.0.0.1:0 --json \
  >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  if [ -s "$work/serve.out" ]; then break; fi
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    log "serve exited: $(tail -n 20 "$work/serve.log")"
    exit 1
  fi
  sleep 1
done
service="$(head -n 1 "$work/serve.out" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["url"])')"
log "service at $service"

# One row per step wanted, for the agent loop named in the YAML.
"$python" - "$work" "$steps" <<'PY'
import sys

import pandas as pd

work, steps = sys.argv[1], int(sys.argv[2])
rows = [{"data_source": "swe_selfplay", "agent_name": "swe_selfplay",
         "prompt": [{"role": "user", "content": "play one self-play step"}],
         "reward_model": {"style": "rule", "ground_truth": ""}, "extra_info": {"index": index}}
        for index in range(2 * steps)]
pd.DataFrame(rows).to_parquet(f"{work}/rows.parquet")
pd.DataFrame(rows[:2]).to_parquet(f"{work}/val.parquet")
PY

export SWE_SELFPLAY_SERVICES="$service" SWE_SELFPLAY_GROUP_SIZE=2
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
log "running verl's main_ppo for $steps steps (log: $work/main_ppo.log)"
set +e
"$python" -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo \
  data.train_files="$work/rows.parquet" data.val_files="$work/val.parquet" \
  data.train_batch_size=2 data.max_prompt_length=4096 data.max_response_length=4096 \
  actor_rollout_ref.model.path="$model" \
  actor_rollout_ref.actor.ppo_mini_batch_size=2 actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=1 \
  actor_rollout_ref.rollout.name=vllm actor_rollout_ref.rollout.mode=async \
  actor_rollout_ref.rollout.n=3 \
  actor_rollout_ref.rollout.prompt_length=4096 actor_rollout_ref.rollout.response_length=4096 \
  actor_rollout_ref.rollout.gpu_memory_utilization=0.5 \
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=1 \
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=1 \
  actor_rollout_ref.rollout.agent.agent_loop_config_path="$root/docs/engines/verl-agent-loop.yaml" \
  trainer.n_gpus_per_node="$gpus" trainer.nnodes=1 trainer.total_training_steps="$steps" \
  trainer.val_before_train=false trainer.logger='[console]' trainer.save_freq=-1 \
  trainer.project_name=swe-selfplay trainer.experiment_name=check-verl-gpu \
  >"$work/main_ppo.log" 2>&1
status=$?
set -e
tail -n 40 "$work/main_ppo.log" >&2
if [ "$status" -eq 0 ]; then
  log "verl trained $steps steps on self-play steps from $service"
else
  log "verl's trainer exited with $status (log: $work/main_ppo.log)"
fi
exit "$status"
