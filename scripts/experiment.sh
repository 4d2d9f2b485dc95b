#!/usr/bin/env bash
# The learning-loop experiment on one machine: vLLM (CPU) serves Qwen2.5-Coder-0.5B-Instruct with runtime
# LoRA loading, `swe-selfplay serve` plays solver-only steps (the built-in policy proposes direct bugs in the
# example library, the model solves them), and the reference trainer updates and hot-loads a LoRA adapter
# each iteration, until the time budget is spent. Writes docs/training/experiment.jsonl (one line per
# iteration) and docs/training/experiment.png (reward, solve rate and time split per iteration).
#
#   bash scripts/experiment.sh [MINUTES] [extra trainer flags...]      # default 60 minutes
#
# Environment: EXPERIMENT_DIR (work directory, default a temporary one), VLLM_PORT (18300), SERVE_PORT (18301),
# STEPS (steps per iteration, 2), GROUP_SIZE (4), MAX_TOKENS (96), MAX_TURNS (4), LR (0.0005),
# MODEL_DIR (a Hugging Face model directory, default the prepared 0.5B), MODEL_LABEL (its name in the plot),
# DTYPE (float32 | bfloat16, the same for vLLM and the trainer), CALL_FORMAT (hermes | json | text),
# TEMPERATURE (1.0), OUTPUT_DIR (where experiment.jsonl and experiment.png go, default docs/training).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
minutes="${1:-60}"
shift || true
log() { echo "[experiment] $*" >&2; }

eval "$(bash "$here/prepare-vllm.sh" | tail -n 2)"
eval "$(bash "$here/prepare-trainer.sh" | tail -n 1)"
work="${EXPERIMENT_DIR:-$(mktemp -d)}"
model_dir="${MODEL_DIR:-$SWE_SELFPLAY_VLLM_MODEL}"
dtype="${DTYPE:-float32}"
call_format="${CALL_FORMAT:-hermes}"
mkdir -p "$work"
vllm_port="${VLLM_PORT:-18300}"
serve_port="${SERVE_PORT:-18301}"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

log "work directory $work"
# An existing work directory is reused (the trainer resumes from its last version there).
[ -d "$work/inkwell/.git" ] || node --import tsx -e "import('$root/src/examples/build.ts').then((m) => m.buildExampleRepo('inkwell', '$work/inkwell'))"
cat >"$work/serve.yaml" <<YAML
environments:
  - { name: inkwell, path: $work/inkwell }
groupSize: ${GROUP_SIZE:-4}
secondOrder: { enabled: false }
# A group's attempts run at once, so vLLM batches their turns.
concurrency: { solvers: ${GROUP_SIZE:-4}, sandboxes: $(( ${GROUP_SIZE:-4} + 4 )) }
store: $work/store.db
# Agent settings of the model's episodes; the trainer's requests name the server and the model (version).
policy:
  kind: openai
  baseUrl: "http://127.0.0.1:$vllm_port/v1"
  model: qwen
  maxTurns: ${MAX_TURNS:-4}
  callFormat: $call_format
  inference: { kind: vllm }
  contextWindow: 4096
serve: { listen: "127.0.0.1:$serve_port" }
YAML

log "starting vLLM on 127.0.0.1:$vllm_port"
VLLM_CPU_KVCACHE_SPACE=1 VLLM_ALLOW_RUNTIME_LORA_UPDATING=True HF_HUB_OFFLINE=1 VLLM_LOGGING_LEVEL=WARNING \
  setsid nice -n 10 "$SWE_SELFPLAY_VLLM_PYTHON" -m vllm.entrypoints.openai.api_server \
  --model "$model_dir" --served-model-name qwen --dtype "$dtype" --max-model-len 4096 \
  --host 127.0.0.1 --port "$vllm_port" --enforce-eager --enable-lora --max-lora-rank 8 --max-loras 4 \
  --no-enable-chunked-prefill --max-num-batched-tokens 4096 --logprobs-mode processed_logprobs \
  >"$work/vllm.log" 2>&1 &
pids+=($!)
log "starting swe-selfplay serve on 127.0.0.1:$serve_port"
setsid nice -n 10 node "$root/bin/swe-selfplay.js" serve --config "$work/serve.yaml" \
  --listen "127.0.0.1:$serve_port" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$vllm_port/health" >/dev/null && curl -sf "http://127.0.0.1:$serve_port/v1/health" >/dev/null && break
  sleep 1
done
curl -sf "http://127.0.0.1:$vllm_port/health" >/dev/null || { log "vLLM did not start; see $work/vllm.log"; exit 1; }
curl -sf "http://127.0.0.1:$serve_port/v1/health" >/dev/null || { log "serve did not start; see $work/serve.log"; exit 1; }

log "training for $minutes minutes"
PYTHONPATH="$root/python" nice -n 10 "$SWE_SELFPLAY_TRAINER_PYTHON" -m swe_selfplay.train \
  --out "$work/trainer" --model-dir "$model_dir" --base-model qwen --dtype "$dtype" \
  --tool-call-format "$call_format" --temperature "${TEMPERATURE:-1.0}" \
  --vllm-url "http://127.0.0.1:$vllm_port" --service "http://127.0.0.1:$serve_port" \
  --solver-only --strategy direct --steps "${STEPS:-2}" --group-size "${GROUP_SIZE:-4}" \
  --max-tokens "${MAX_TOKENS:-96}" --lr "${LR:-0.0005}" --iterations 1000 --max-minutes "$minutes" \
  --store "$work/store.db" --run-name "experiment-$(date +%s)" "$@"

output="${OUTPUT_DIR:-$root/docs/training}"
mkdir -p "$output"
cp "$work/trainer/metrics.jsonl" "$output/experiment.jsonl"
PYTHONPATH="$root/python" "$SWE_SELFPLAY_TRAINER_PYTHON" -m swe_selfplay.plot "$work/trainer/metrics.jsonl" \
  "$output/experiment.png" "${MODEL_LABEL:-Qwen2.5-Coder-0.5B} LoRA, solver-only on inkwell (direct bugs), CPU"
log "wrote $output/experiment.jsonl and $output/experiment.png"
