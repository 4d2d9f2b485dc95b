#!/usr/bin/env bash
# Runs the whole pytest suite from the repository root, one verbose line per test.
export PYTHONDONTWRITEBYTECODE=1
python3 -m pytest -v --tb=short -p no:cacheprovider tests
