#!/usr/bin/env bash
# Prepares the Python side of the learning loop, once per machine: a venv beside the vLLM one that reuses
# its torch and transformers (a .pth file puts the vLLM venv's site-packages behind its own) and adds peft
# for the LoRA trainer, matplotlib for the experiment's plot, pytest, and verl (installed without its
# dependencies, plus the few its agent loop module imports) so the verl adapter is tested against the real
# class. Runs scripts/prepare-vllm.sh first (a no-op when that is ready). Idempotent; a second run returns
# at once. Prints, as its last line on stdout, the assignment the tests read:
#   SWE_SELFPLAY_TRAINER_PYTHON=<venv python>
# and writes it to <cache>/trainer.env.
#
# Environment: SWE_SELFPLAY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "[prepare-trainer] $*" >&2; }
started=$SECONDS

peft_version=0.21.2
verl_version=0.9.1
# The oldest verl the adapter supports, installed beside the newest (python/tests/test_verl_floor.py).
verl_floor_version=0.9.0
matplotlib_version=3.10.8
# TRL's GRPOTrainer with its rollout_func, for the TRL adapter (python/tests/test_trl_engine.py).
trl_version=1.16.0
pytest_version=8.4.2
# verifiers with its classic environment API (load_environment, MultiTurnEnv, Rubric, vf-eval), for the
# environment package python/environments/swe_selfplay_env (test/train/engines-game.test.ts). 0.4 dropped that
# API for its v1 stack. Installed with its dependencies, none of which replaces torch or transformers.
verifiers_version=0.3.1
# What verl's agent loop module imports beyond torch, transformers, numpy and pydantic (verl itself is
# installed without dependencies: it pins an older transformers than the vLLM venv's).
# Ray (pinned here) is also what swe_selfplay.ray and its multi-node test (test/ray) run on.
verl_imports=(ray==2.60.0 hydra-core==1.3.2 omegaconf==2.3.0 tensordict==0.10.0 pillow codetiming datasets
  pylatexenc dill)

cache="${SWE_SELFPLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay}"
# shellcheck disable=SC1091
eval "$(bash "$here/prepare-vllm.sh" | tail -n 2)"
vllm_python="$SWE_SELFPLAY_VLLM_PYTHON"
vllm_venv="$(dirname "$(dirname "$vllm_python")")"
venv="$cache/trainer/peft-$peft_version-verl-$verl_version-trl-$trl_version-on-$(basename "$vllm_venv")"
mkdir -p "$cache/trainer"

exec 8>"$cache/trainer/.lock"
flock 8

if [ ! -f "$venv/.ready" ]; then
  log "creating $venv on top of $vllm_venv"
  rm -rf "$venv"
  "$vllm_python" -m venv "$venv"
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  vllm_site="$("$vllm_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  # Appended after the venv's own site-packages: what this venv installs wins, torch comes from vLLM's.
  echo "$vllm_site" >"$site/zz-vllm-venv.pth"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input -q)
  "${pip[@]}" install "peft==$peft_version" "matplotlib==$matplotlib_version" "pytest==$pytest_version" \
    "trl==$trl_version" "${verl_imports[@]}"
  "${pip[@]}" install --no-deps "verl==$verl_version"
  "$venv/bin/python" -c 'import torch, peft; print("torch", torch.__version__, "peft", peft.__version__)' >&2
  "$venv/bin/python" -c 'from verl.experimental.agent_loop.agent_loop import AgentLoopBase' >&2
  touch "$venv/.ready"
  log "trainer venv ready in $((SECONDS - started)) s"
fi

floor="$venv/verl-floor-$verl_floor_version"
if [ ! -f "$floor/.ready" ]; then
  "$venv/bin/python" -m pip --disable-pip-version-check --no-input -q install --no-deps --target "$floor" \
    "verl==$verl_floor_version"
  touch "$floor/.ready"
fi

# Added to a venv made before verifiers was part of it, so that an existing venv need not be rebuilt.
if [ ! -f "$venv/.verifiers-$verifiers_version" ]; then
  log "installing verifiers $verifiers_version"
  "$venv/bin/python" -m pip --disable-pip-version-check --no-input -q install "verifiers==$verifiers_version"
  "$venv/bin/python" -c 'import torch, transformers, verifiers as vf; vf.MultiTurnEnv' >&2
  touch "$venv/.verifiers-$verifiers_version"
fi

env_file="$cache/trainer.env"
printf 'SWE_SELFPLAY_TRAINER_PYTHON=%s\n' "$venv/bin/python" >"$env_file"
log "ready in $((SECONDS - started)) s ($env_file)"
cat "$env_file"
