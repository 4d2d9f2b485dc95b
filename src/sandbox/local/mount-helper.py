# Helper of the local sandbox backend, one per program: mounts and unmounts overlay workspaces with direct
# system calls (sparing a mount/umount program start per sandbox), and when the program dies without
# cleaning up (its end of our stdin closes), kills every process left in the program's control groups and
# the process group of every sandbox launcher it started (whose environment names it as the owner).
# Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
#   {"op": "mount", "target": T, "options": O}          -> {"ok": true} | {"ok": false, "error": E}
#   {"op": "unmount", "target": T}                      -> {"ok": true} | {"ok": false, "error": E}
#   {"op": "watch", "parents": [P...], "prefix": X, "owner": N}
#                                                       -> {"ok": true}  (groups P/X*, and launchers marked
#                                                          ".../N", die with the program)
import ctypes
import json
import os
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MNT_DETACH = 2
watched = []
owners = []
LAUNCHER_VARIABLE = b"SWE_SELFPLAY_LAUNCHER="


def kill_launchers(owner):
    # A launcher's namespace init, orphaned in its set-up when the program died, ignores all but SIGKILL
    # and never leaves the launcher's process group.
    suffix = b"/" + str(owner).encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as handle:
                variables = handle.read().split(b"\0")
        except OSError:
            continue
        if not any(v.startswith(LAUNCHER_VARIABLE) and v.endswith(suffix) for v in variables):
            continue
        pid = int(name)
        try:
            group = os.getpgid(pid)
            if group > 1 and group != os.getpgrp():
                os.killpg(group, 9)
            os.kill(pid, 9)
        except OSError:
            pass


def kill_groups(parents, prefix):
    for parent in parents:
        try:
            names = [name for name in os.listdir(parent) if name.startswith(prefix)]
        except OSError:
            continue
        for name in names:
            group = os.path.join(parent, name)
            try:
                with open(os.path.join(group, "cgroup.kill"), "w") as handle:
                    handle.write("1")
            except OSError:
                pass
            for _ in range(500):
                try:
                    with open(os.path.join(group, "cgroup.procs")) as handle:
                        pids = [int(line) for line in handle if line.strip()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
                time.sleep(0.002)
            try:
                os.rmdir(group)
            except OSError:
                pass


def handle(request):
    if request["op"] == "watch":
        watched.append((request["parents"], request["prefix"]))
        if request.get("owner"):
            owners.append(int(request["owner"]))
        return {"ok": True}
    target = request["target"].encode()
    if request["op"] == "mount":
        result = libc.mount(b"overlay", target, b"overlay", 0, request["options"].encode())
    elif request["op"] == "unmount":
        result = libc.umount2(target, 0)
        if result != 0 and ctypes.get_errno() == 16:  # EBUSY: detach now, free when the last user goes
            result = libc.umount2(target, MNT_DETACH)
    else:
        return {"ok": False, "error": "unknown operation"}
    if result != 0:
        return {"ok": False, "error": os.strerror(ctypes.get_errno())}
    return {"ok": True}


for line in sys.stdin:
    try:
        reply = handle(json.loads(line))
    except Exception as error:  # a malformed request must not kill the helper
        reply = {"ok": False, "error": str(error)}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()

for owner in owners:
    kill_launchers(owner)
for parents, prefix in watched:
    kill_groups(parents, prefix)
