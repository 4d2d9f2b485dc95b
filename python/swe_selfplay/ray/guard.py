"""The leader of a replica's process group: runs `swe-selfplay serve` as its child and takes the whole group
down when either side goes, so no sandbox or service outlives its supervising actor.

    python -m swe_selfplay.ray.guard PARENT_PID -- COMMAND...

When the child exits, the rest of the group (the service's sandboxes) is terminated and the guard exits with
the child's code. When PARENT_PID stops being its parent (the actor or its node died), the group is
terminated, then killed after a grace period. The guard ignores SIGTERM itself: a SIGTERM to the group
reaches the service, which shuts down cleanly, and the guard follows it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_S = 5.0


def end_group(grace_s: float) -> None:
    """SIGTERM to the group (this guard ignores it), then SIGKILL to what is left, the guard included."""
    group = os.getpgid(0)
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        pass
    time.sleep(grace_s)
    os.killpg(group, signal.SIGKILL)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m swe_selfplay.ray.guard PARENT_PID -- COMMAND...", file=sys.stderr)
        return 2
    parent = int(argv[0])
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The child gets the default SIGTERM disposition back.
    child = subprocess.Popen(argv[2:], preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    while True:
        code = child.poll()
        if code is not None:
            # Whatever the service left in the group goes with it; the guard stays to report the code.
            group = os.getpgid(0)
            os.killpg(group, signal.SIGTERM)
            time.sleep(1.0)
            _kill_others(group)
            return code if code >= 0 else 128 - code
        if os.getppid() != parent:
            end_group(GRACE_S)
        time.sleep(0.25)


def _kill_others(group: int) -> None:
    """SIGKILL to every process of the group but this one (found in /proc)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.getpgid(int(entry)) == group:
                os.kill(int(entry), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
