"""The package as a user installs it: the wheel builds, installs into a clean venv (no torch, no trainer
extras) and every declared console script answers --help there; every module imports with the extras
installed; the declared dependency floors are the versions whose features the code uses."""

import importlib
import pkgutil
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((SOURCE / "pyproject.toml").read_text())

# The oldest version of each dependency that has what the code calls; pyproject.toml must declare exactly these.
NEEDED_FLOORS = {
    "torch": ("2.1", "torch.load(weights_only=True), torch.optim.AdamW"),
    "transformers": ("4.56", "from_pretrained(dtype=...) and a forward pass with logits_to_keep"),
    "peft": ("0.13", "LoraConfig(task_type=...), PeftModel.from_pretrained(is_trainable=True)"),
    "matplotlib": ("3.7", "the Agg backend and pyplot subplots"),
    "verl": ("0.9", "AgentLoopBase.server_manager with the global load balancer (_acquire_server), rollout_config"),
    "aiohttp": ("3.9", "ClientSession.request with ClientTimeout(total=...)"),
    "trl": ("1.16", "GRPOTrainer(rollout_func=...) with env_mask"),
    "pytest": ("8", "the test suite"),
    "ray": ("2.9", "NodeAffinitySchedulingStrategy, detached named actors, list_named_actors(all_namespaces=True)"),
}


def declared_floors() -> dict[str, str]:
    floors = {}
    for requirements in PYPROJECT["project"]["optional-dependencies"].values():
        for requirement in requirements:
            name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
            floors[name] = floor
    return floors


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    work = tmp_path_factory.mktemp("wheel")
    build = work / "source"
    # Built from a copy, so the checkout gets no build/ or egg-info directories.
    subprocess.run(["cp", "-r", str(SOURCE), str(build)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(work / "wheels"), str(build)], check=True)
    (built,) = (work / "wheels").glob("swe_selfplay-*.whl")
    return built


def test_the_package_builds_as_a_wheel_with_its_console_scripts(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "swe_selfplay/train.py" in names and "swe_selfplay/adapters/verl.py" in names
    assert not any(name.startswith("tests/") for name in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "swe-selfplay-train = swe_selfplay.train:main" in entry_points


def test_every_console_script_answers_help_in_a_clean_venv(wheel, tmp_path):
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts, "pyproject.toml declares no console scripts"
    venv = tmp_path / "venv"
    # A venv of the base interpreter: none of the trainer's packages, only the wheel (which has no dependencies).
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check",
                    str(wheel)], check=True)
    for name in scripts:
        result = subprocess.run([str(venv / "bin" / name), "--help"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{name} --help: {result.stderr}"
        assert "usage:" in result.stdout.lower(), f"{name} --help printed no usage: {result.stdout}"


def test_every_module_imports_with_the_extras_installed():
    import swe_selfplay

    modules = [info.name for info in pkgutil.walk_packages(swe_selfplay.__path__, "swe_selfplay.")]
    assert "swe_selfplay.train" in modules and "swe_selfplay.adapters.verl" in modules
    for name in modules:
        importlib.import_module(name)
    # Each console script names a module and function that exist.
    for target in PYPROJECT["project"]["scripts"].values():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), target


def test_the_declared_floors_are_the_versions_the_code_needs():
    from packaging.version import Version

    assert declared_floors() == {name: floor for name, (floor, _) in NEEDED_FLOORS.items()}
    # What the tests run against satisfies them.
    for name, (floor, why) in NEEDED_FLOORS.items():
        installed = Version(metadata.version(name))
        assert installed >= Version(floor), f"{name} {installed} is below {floor} ({why})"
