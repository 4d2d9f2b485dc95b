// Placeholder until the `images` command group is implemented.
import type { Command } from "commander";

export function register(_program: Command): void {}
