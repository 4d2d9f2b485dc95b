# Process-tree control inside a container, where the engine offers no way to kill an exec.
# "run ID CWD SECONDS COMMAND": runs COMMAND (bash -c, or sh -c without bash) from CWD as the leader of a new
# session whose processes all carry SWE_SELFPLAY_EXEC=ID, and kills whatever it left behind when it ends.
# A watchdog started beforehand kills the tree after SECONDS even when the container is out of process slots
# (a fork bomb at the pids limit), where the outside killer could not even start.
# "kill ID": kills such a tree from outside (timeout, abort): its process group and every process with the marker.
mode=$1
id=$2
state=/run/swe-selfplay
# Builtin test first: prepared images already hold a writable state directory, so no mkdir is spawned.
{ [ -w "$state" ] || { mkdir -p "$state" 2>/dev/null && [ -w "$state" ]; }; } || { state=/tmp/.swe-selfplay; mkdir -p "$state"; }

kill_tree() {
  # Builtins first (read, kill; dash's kill takes no "--"): under a fork bomb at the pids limit, nothing else can start until the group is dead.
  pgid=
  [ -r "$state/$id.pgid" ] && read -r pgid < "$state/$id.pgid"
  round=0
  # Repeat: a process may fork while we kill; stop when a round finds nothing alive.
  while [ "$round" -lt 50 ]; do
    found=
    if [ -n "$pgid" ] && kill -KILL "-$pgid" 2>/dev/null; then found=1; fi
    for file in $(grep -lzxE "SWE_SELFPLAY_(EXEC|WATCH)=$id" /proc/[0-9]*/environ 2>/dev/null); do
      pid=${file#/proc/}
      pid=${pid%/environ}
      # Zombies have an empty environ, so a match is a live process.
      kill -KILL "$pid" 2>/dev/null && found=1
    done
    [ -z "$found" ] && break
    round=$((round + 1))
    sleep 0.02 2>/dev/null || sleep 1
  done
  rm -f "$state/$id.pgid"
}

case "$mode" in
  run)
    cwd=$3
    seconds=$4
    command=$5
    # The watchdog's sleep carries its own marker, so kill_tree also ends it when the command finishes first.
    ( SWE_SELFPLAY_WATCH=$id sleep "$seconds" && kill_tree ) < /dev/null > /dev/null 2>&1 &
    watchdog=$!
    shell=sh
    command -v bash >/dev/null 2>&1 && shell=bash
    session=
    # -w makes setsid wait for the command and return its status, even when it had to fork.
    command -v setsid >/dev/null 2>&1 && session="setsid -w"
    # Only the command's processes carry the marker: this script and the killer do not.
    # Started in the background (fd 4 hands it our stdin, which a background job would not get) and waited
    # for with our own stderr closed: dash's `wait` prints a "Killed" notice there when the command is killed.
    exec 4<&0 5>&2
    SWE_SELFPLAY_EXEC=$id $session sh -c 'echo $$ > "$1"; cd -- "$2" || exit 126; exec "$3" -c "$4"' \
      process-tree "$state/$id.pgid" "$cwd" "$shell" "$command" <&4 2>&5 4<&- 5>&- &
    exec 4<&- 5>&- 2>/dev/null
    wait $!
    status=$?
    kill -KILL "$watchdog" 2>/dev/null
    # Nothing may outlive its command, not even a daemon that closed its output.
    kill_tree
    exit "$status"
    ;;
  kill)
    kill_tree
    ;;
  *)
    echo "process-tree: unknown mode $mode" >&2
    exit 2
    ;;
esac
