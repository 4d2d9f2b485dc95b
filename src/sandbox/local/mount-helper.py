# Mount helper of the local sandbox backend: one long-lived process that mounts and unmounts overlay
# workspaces with direct system calls, sparing a mount/umount program start per sandbox.
# Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
#   {"op": "mount", "target": T, "options": O}  -> {"ok": true} | {"ok": false, "error": E}
#   {"op": "unmount", "target": T}              -> {"ok": true} | {"ok": false, "error": E}
import ctypes
import json
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MNT_DETACH = 2


def handle(request):
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
