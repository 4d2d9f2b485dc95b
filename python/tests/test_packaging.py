import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


def test_the_package_builds_as_a_wheel_with_its_console_scripts(tmp_path):
    pytest.importorskip("setuptools")
    source = Path(__file__).resolve().parents[1]
    build = tmp_path / "source"
    # Built from a copy, so the checkout gets no build/ or egg-info directories.
    subprocess.run(["cp", "-r", str(source), str(build)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "wheels"), str(build)], check=True)
    (wheel,) = (tmp_path / "wheels").glob("swe_selfplay-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "swe_selfplay/train.py" in names and "swe_selfplay/adapters/verl.py" in names
    assert not any(name.startswith("tests/") for name in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "swe-selfplay-train = swe_selfplay.train:main" in entry_points
