// One line of the sandbox benchmark table; bench/sandbox/docker.ts returns the same shape.
export interface Row {
  /** What was measured, e.g. "create+run true+destroy". */
  benchmark: string;
  /** Backend and variant, e.g. "local overlay, 5000 files". */
  variant: string;
  medianMs: number;
  p90Ms: number;
  runs: number;
  /** Median of a bare spawn("true") measured alternately with this row's samples (same load), when paired. */
  baselineMs?: number;
  /** Why a variant could not run, or a remark. */
  note?: string;
}
