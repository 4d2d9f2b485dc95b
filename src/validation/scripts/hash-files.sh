# Reads repository-relative paths on stdin; prints "SHA256<TAB>PATH" for each that is a regular file.
while IFS= read -r path; do
  [ -n "$path" ] && [ -f "$path" ] && [ ! -L "$path" ] && printf '%s\t%s\n' "$(sha256sum < "$path" | cut -d' ' -f1)" "$path"
done
exit 0
