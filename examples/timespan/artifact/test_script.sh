#!/usr/bin/env bash
# Runs every test file with Node's built-in runner and prints TAP, one line per test.
node --test --test-reporter=tap
