// Options of a test-suite run.

export interface RunTestSuiteOptions {
  /** Content of test_script.sh; run with bash from the workdir; its exit code is ignored. */
  testScript: string;
  /** Content of test_parser.py; reads the captured output on stdin, prints one JSON object. */
  testParser: string;
  /** Wall-clock limit of the test script; the parser gets its own fixed limit. */
  timeoutMs: number;
  abortSignal?: AbortSignal;
  /** Cap of the captured test output, bytes [8 MiB]. */
  maxOutputBytes?: number;
  /** Changes to the repository made right before the script runs, in the same command (no extra round trip). */
  prepare?: TreeEdits;
  /** The harness watching the run from outside the repository (grading's guard); see ScriptExecution.observed. */
  observe?: RunObserver;
}

/**
 * Files in the private directory written before the script, shell lines run before it in its shell (e.g.
 * exports), and a shell snippet run after it whose standard output comes back apart from the test output.
 */
export interface RunObserver {
  files: { path: string; content: string }[];
  setup: string;
  after: string;
}

/** Repository-relative paths to remove, then files to write (or append to), parents created as needed. */
export interface TreeEdits {
  remove: string[];
  write: { path: string; content: string | Buffer; mode?: number; append?: boolean }[];
}
