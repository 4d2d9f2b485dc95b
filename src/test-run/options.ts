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
}

/** Repository-relative paths to remove, then files to write (or append to), parents created as needed. */
export interface TreeEdits {
  remove: string[];
  write: { path: string; content: string | Buffer; mode?: number; append?: boolean }[];
}
