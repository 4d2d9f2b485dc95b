// The bug artifact as data: five files plus provenance. Parsing, ids and safety live in src/artifact/.

export type Strategy = "removal" | "history" | "direct";
export const STRATEGIES: readonly Strategy[] = ["removal", "history", "direct"];

/**
 * How hard a bug is meant to be, from 1 (easiest) to 4: 1 a one-token mutation in a short function that a
 * hidden test calls by name, 2 any other mutation, 3 a removed block, 4 a stubbed body, a reverted commit or
 * a bug across two files.
 */
export type Difficulty = 1 | 2 | 3 | 4;
export const DIFFICULTIES: readonly Difficulty[] = [1, 2, 3, 4];

/** The strategies that make bugs of each difficulty. */
export const STRATEGIES_OF_DIFFICULTY: Readonly<Record<Difficulty, readonly Strategy[]>> = {
  1: ["direct"],
  2: ["direct"],
  3: ["removal"],
  4: ["removal", "history"],
};

export interface ArtifactMeta {
  /** Name of the environment the artifact was proposed on. */
  environment: string;
  /** How the bug was made; a second-order bug keeps its parent's strategy. */
  strategy: Strategy;
  /** 1 for a proposed bug, 2 for a bug made from a failed solver patch. Never more. */
  order: 1 | 2;
  /** Id of the first-order artifact a second-order bug comes from. */
  parentId: string | null;
  /** Policy that made it, e.g. "builtin@0.1.0" or "openai:qwen3-32b". */
  policy: string;
  /** ISO-8601 time of creation. */
  createdAt: string;
  /** Seed of the proposer episode, when it had one. */
  seed?: number;
  /** Difficulty level of the bug, when its proposer knows it (the built-in proposer always does). */
  difficulty?: Difficulty;
}

/** The five files, parsed: `testFiles` is the list of lines of test_files.txt. */
export interface BugArtifact {
  testScript: string;
  testFiles: string[];
  testParser: string;
  bugInjectDiff: string;
  testWeakenDiff: string;
  meta: ArtifactMeta;
}
