# Reads repository-relative paths on stdin; prints for each "PATH<TAB>MODE" (octal) when it is a regular
# file, "PATH<TAB>absent" otherwise. Run from the repository root.
while IFS= read -r path; do
  [ -z "$path" ] && continue
  if [ -f "$path" ] && [ ! -L "$path" ]; then
    printf '%s\t%s\n' "$path" "$(stat -c '%a' -- "$path")"
  else
    printf '%s\tabsent\n' "$path"
  fi
done
