# Turns the repository in the current directory into a fresh one-commit repository holding exactly the
# current tree: no history, no stashes, reflogs, backups or caches that could reveal the original code.
set -eu
rm -rf .git
# Leftovers of patching and editing, and caches compiled from the original code.
find . \( -name node_modules -prune -o -name .git -prune \) -o \
  \( -type f \( -name '*.orig' -o -name '*.rej' -o -name '*~' -o -name '*.pyc' -o -name '*.pyo' \
     -o -name '.*.swp' \) -print0 \) | xargs -0 -r rm -f
find . \( -name node_modules -prune -o -name .git -prune \) -o \
  \( -type d \( -name __pycache__ -o -name .pytest_cache -o -name .mypy_cache -o -name .ruff_cache \
     -o -name .hypothesis -o -name .cache \) -print0 \) | xargs -0 -r rm -rf
find . -type d -path '*/node_modules/.cache' -prune -print0 | xargs -0 -r rm -rf
export GIT_AUTHOR_NAME=developer GIT_AUTHOR_EMAIL=developer@localhost
export GIT_COMMITTER_NAME=developer GIT_COMMITTER_EMAIL=developer@localhost
export GIT_AUTHOR_DATE='2000-01-01T00:00:00Z' GIT_COMMITTER_DATE='2000-01-01T00:00:00Z'
git init -q
git -c safe.directory='*' symbolic-ref HEAD refs/heads/main
git -c safe.directory='*' -c core.autocrlf=false add -A
git -c safe.directory='*' -c commit.gpgsign=false commit -q --allow-empty --no-verify -m "Initial commit"
