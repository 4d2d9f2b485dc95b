// What test discovery tells a proposer: how to run a repository's tests and read their results.
import type { SourceLanguage, TestFramework } from "../code-model/types.js";

export type { TestFramework };

/** The main language of the tests ("typescript" covers tsx). */
export type TestLanguage = Exclude<SourceLanguage, "tsx">;

export type DiscoveryResult =
  | {
      status: "found";
      framework: TestFramework;
      language: TestLanguage;
      /** Contents of test_script.sh: runs every test from the repository root, per-test output on stdout. */
      testScript: string;
      /** Contents of test_parser.py: stdlib-only, reads the script's output on stdin, prints {test_id: status}. */
      testParser: string;
      /** Repository-relative paths of the files that define the tests (test_files.txt lines), sorted. */
      testFiles: string[];
      /** What discovery inspected, in order (files read, commands probed), for logs and reports. */
      lookedAt: string[];
    }
  | {
      status: "not-found";
      /** Starts with "could not find how to run the tests" and says what was looked at. */
      message: string;
      lookedAt: string[];
    };

export interface DiscoveryOptions {
  /**
   * Ask the runner which files hold tests (`pytest --collect-only`), which is exact but runs the
   * collection once. False uses file name patterns only, which is faster. Default true.
   */
  collect?: boolean;
  /** Only these runners are considered (e.g. ["unittest"] to run a Python suite without pytest). Default all. */
  frameworks?: readonly TestFramework[];
  /** Limit for each probing command run inside the sandbox. Default 60 s. */
  commandTimeoutMs?: number;
  abortSignal?: AbortSignal;
}
