# Reads "SHA256<TAB>PATH" lines on stdin (the original content of files the bug changes). Deletes copies of
# exactly that content under build-output directories (build/, dist/, .eggs/, .tox/, .nox/), so the original
# code cannot be read there, and prints the deleted paths. Copies elsewhere are left alone: identical files
# in the source tree (empty __init__.py files) are code, not leftovers.
while IFS=$'\t' read -r hash path; do
  [ -z "$path" ] && continue
  name=$(basename -- "$path")
  find . -path ./.git -prune -o -type f -name "$name" -print | while IFS= read -r candidate; do
    relative="${candidate#./}"
    [ "$relative" = "$path" ] && continue
    case "/$relative" in
      */build/* | */dist/* | */.eggs/* | */.tox/* | */.nox/*) ;;
      *) continue ;;
    esac
    if [ "$(sha256sum < "$candidate" | cut -d' ' -f1)" = "$hash" ]; then
      rm -f -- "$candidate" && printf '%s\n' "$relative"
    fi
  done
done
exit 0
