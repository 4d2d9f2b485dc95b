// Placeholder until the `validate` command group is implemented.
import type { Command } from "commander";

export function register(_program: Command): void {}
