# Derives the Debian mirror and suite this machine's apt already uses, so nothing names a host.
# Source it; it defines debian_mirror (prints the archive URL, not the security one) and debian_suite.
# SWE_SELFPLAY_DEBIAN_MIRROR overrides the derived mirror.

debian_mirror() {
  if [ -n "${SWE_SELFPLAY_DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "$SWE_SELFPLAY_DEBIAN_MIRROR"
    return 0
  fi
  local found=""
  # deb822 files: take the first URIs of a stanza whose Types has deb and whose URI is not a security archive.
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    found=$(awk '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[[:space:]]*#/) continue
          if (tolower(line) ~ /^types:/) { sub(/^[^:]*:[[:space:]]*/, "", line); types = line }
          else if (tolower(line) ~ /^uris:/) { sub(/^[^:]*:[[:space:]]*/, "", line); uris = line }
          else if (tolower(line) ~ /^enabled:/) { sub(/^[^:]*:[[:space:]]*/, "", line); enabled = tolower(line) }
        }
        if (enabled == "no" || types !~ /(^|[[:space:]])deb($|[[:space:]])/) next
        split(uris, list, /[[:space:]]+/)
        for (j in list) if (list[j] != "" && list[j] !~ /security/) { print list[j]; exit }
      }' "$file")
    [ -n "$found" ] && break
  done
  if [ -z "$found" ]; then
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$file" ] || continue
      found=$(awk '$1 == "deb" {
          for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($i !~ /security/) { print $i; exit } else break }
        }' "$file")
      [ -n "$found" ] && break
    done
  fi
  if [ -z "$found" ]; then
    echo "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d; set SWE_SELFPLAY_DEBIAN_MIRROR" >&2
    return 1
  fi
  printf '%s\n' "${found%/}"
}

debian_suite() {
  printf '%s\n' "${SWE_SELFPLAY_DEBIAN_SUITE:-bookworm}"
}
