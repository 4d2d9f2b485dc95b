"""Reads exported rollout directories (DESIGN section 8): `rollouts/step_NNNNNN/part-*.jsonl` plus a `_DONE`
manifest per step, written by `swe-selfplay export --format rollouts` or `run --rollouts DIR`.

A step is read only once its `_DONE` exists; its part files must match the manifest's counts and sha256
hashes, and every record must be a sound rollout.v1 sample. `RolloutDirectory.new_steps()` follows a
directory that a live run keeps writing."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import RolloutDirectoryError, SampleError
from .samples import Sample, parse_sample

STEP_DIRECTORY = re.compile(r"^step_(\d{6,})$")


@dataclass(frozen=True)
class RolloutStep:
    step: int
    run_id: str
    directory: Path
    samples: list[Sample]
    #: Records refused by the rollout.v1 checks, with their sample ids and reasons.
    refused: list[SampleError]


def read_step(directory: str | os.PathLike[str]) -> RolloutStep:
    """One exported step, checked against its manifest; RolloutDirectoryError says what disagrees where."""
    directory = Path(directory)
    done = directory / "_DONE"
    try:
        manifest: dict[str, Any] = json.loads(done.read_text("utf-8"))
    except FileNotFoundError:
        raise RolloutDirectoryError(f"{directory}: no _DONE manifest (step not finished)") from None
    except json.JSONDecodeError as error:
        raise RolloutDirectoryError(f"{done}: not JSON ({error})") from error
    if manifest.get("schema") != "rollout.v1":
        raise RolloutDirectoryError(f"{done}: schema is {manifest.get('schema')!r}, expected 'rollout.v1'")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise RolloutDirectoryError(f"{done}: 'files' is not a list")
    present = sorted(p.name for p in directory.iterdir() if p.name.startswith("part-") and p.suffix == ".jsonl")
    listed = sorted(str(entry.get("name")) for entry in files)
    if present != listed:
        raise RolloutDirectoryError(f"{directory}: part files {present} differ from the manifest's {listed}")
    samples: list[Sample] = []
    refused: list[SampleError] = []
    for entry in files:
        path = directory / str(entry["name"])
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            raise RolloutDirectoryError(f"{path}: sha256 differs from the manifest")
        lines = [line for line in content.decode("utf-8").split("\n") if line]
        if len(lines) != entry.get("records"):
            raise RolloutDirectoryError(
                f"{path}: {len(lines)} records, the manifest says {entry.get('records')}"
            )
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise RolloutDirectoryError(f"{path}:{number}: not JSON ({error})") from error
            try:
                samples.append(parse_sample(record))
            except SampleError as error:
                refused.append(error)
    if len(samples) + len(refused) != manifest.get("records"):
        raise RolloutDirectoryError(
            f"{done}: {len(samples) + len(refused)} records in parts, the manifest says {manifest.get('records')}"
        )
    return RolloutStep(
        step=int(manifest.get("step", -1)),
        run_id=str(manifest.get("run_id", "")),
        directory=directory,
        samples=samples,
        refused=refused,
    )


def _rollouts_root(path: Path) -> Path:
    """Accepts either the export's --out directory or its `rollouts/` folder."""
    return path / "rollouts" if (path / "rollouts").is_dir() else path


def finished_step_directories(root: str | os.PathLike[str]) -> list[Path]:
    """Step directories with a `_DONE` manifest, in step order."""
    root = _rollouts_root(Path(root))
    if not root.is_dir():
        raise RolloutDirectoryError(f"{root}: no such rollouts directory")
    found = []
    for child in root.iterdir():
        match = STEP_DIRECTORY.match(child.name)
        if match and (child / "_DONE").is_file():
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def read_rollouts(root: str | os.PathLike[str]) -> Iterator[RolloutStep]:
    """Every finished step under `root`, in step order."""
    for directory in finished_step_directories(root):
        yield read_step(directory)


class RolloutDirectory:
    """Follows a rollouts directory: each call to new_steps() returns the steps finished since the last.
    `seen` (step directory names) carries what an earlier process already consumed across a restart."""

    def __init__(self, root: str | os.PathLike[str], seen: list[str] | None = None):
        self.root = Path(root)
        self._seen: set[str] = set(seen or [])

    @property
    def seen(self) -> list[str]:
        return sorted(self._seen)

    def new_steps(self) -> list[RolloutStep]:
        fresh = []
        for directory in finished_step_directories(self.root):
            if directory.name in self._seen:
                continue
            fresh.append(read_step(directory))
            self._seen.add(directory.name)
        return fresh
