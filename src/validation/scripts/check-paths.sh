# Reads "KIND<TAB>PATH" lines on stdin (KIND: touched | oracle), run from the repository root.
# Prints "escape<TAB>PATH<TAB>RESOLVED" for a path that resolves outside the repository through a symlink,
# "missing<TAB>PATH" for an oracle file that is not a regular file. Prints nothing when all is well.
root=$(pwd -P)
while IFS=$'\t' read -r kind path; do
  [ -z "$path" ] && continue
  resolved=$(realpath -m -- "$path")
  case "$resolved" in
    "$root"/*) ;;
    *) printf 'escape\t%s\t%s\n' "$path" "$resolved"; continue ;;
  esac
  if [ "$kind" = oracle ] && [ ! -f "$path" ]; then printf 'missing\t%s\n' "$path"; fi
done
