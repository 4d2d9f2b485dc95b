"""The trainer's command line as a user meets it: defaults in --help, one clear line without torch."""

import os
import subprocess
import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def run_trainer(args, extra_path=None):
    paths = [str(extra_path)] if extra_path else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(PACKAGE_ROOT)])}
    return subprocess.run([sys.executable, "-m", "swe_selfplay.train", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_help_shows_the_defaults():
    result = run_trainer(["--help"])
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for shown in ["self-play steps per iteration (default: 2)", "(G) (default: 2)", "(default: 128)",
                  "(default: float32)", "(default: hermes)", "learning rate of the LoRA parameters (default: 0.0001)"]:
        assert shown in text, shown
    assert "(default: None)" not in text and "(default: False)" not in text


def test_a_start_without_torch_says_what_to_install_on_one_line(tmp_path):
    # A torch that cannot be imported, found before any real one.
    shadow = tmp_path / "torch"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    result = run_trainer(["--out", str(tmp_path / "out"), "--model-dir", str(tmp_path), "--base-model", "qwen",
                          "--vllm-url", "http://127.0.0.1:9", "--service", "http://127.0.0.1:9"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "torch cannot be imported" in lines[0] and "pip install './python[train]'" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
