"""The verl adapter's tests again on the oldest verl it supports (scripts/prepare-trainer.sh installs it
beside the newest, in <venv>/verl-floor-VERSION), so both ends of the supported range run verl's own code."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOORS = sorted(Path(sys.prefix).glob("verl-floor-*"))


@pytest.mark.skipif(not FLOORS, reason="no verl floor installed beside this venv (scripts/prepare-trainer.sh)")
def test_the_verl_adapter_passes_its_tests_on_the_oldest_supported_verl():
    floor = FLOORS[-1]
    version = floor.name.removeprefix("verl-floor-")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(floor), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "PYTHONDONTWRITEBYTECODE": "1"}
    here = Path(__file__).resolve().parents[1]
    found = subprocess.run([sys.executable, "-c", "import verl; print(verl.__version__)"], env=env, cwd=here,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert found == version
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_verl_engine.py",
                             "-k", "documented_agent_loop or masked_zero_weight or regroup or lora"],
                            env=env, cwd=here, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and "skipped" not in result.stdout
