# Reads "KIND<TAB>PATH" lines on stdin (KIND: touched | oracle), run from the repository root. Prints
#   link<TAB>PATH<TAB>TARGET     for every symlink in the tree (outside .git),
#   escape<TAB>PATH<TAB>RESOLVED for a touched or oracle path that resolves outside the repository,
#   missing<TAB>PATH             for an oracle file that is not a regular file.
root=$(pwd -P)
find . -path ./.git -prune -o -type l -printf 'link\t%P\t%l\n'
while IFS=$'\t' read -r kind path; do
  [ -z "$path" ] && continue
  resolved=$(realpath -m -- "$path")
  case "$resolved" in
    "$root"/*) ;;
    *) printf 'escape\t%s\t%s\n' "$path" "$resolved"; continue ;;
  esac
  if [ "$kind" = oracle ] && [ ! -f "$path" ]; then printf 'missing\t%s\n' "$path"; fi
done
