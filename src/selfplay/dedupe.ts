// One artifact, one task: which earlier step of the run an artifact repeats, identically (same content id)
// or semantically (same normalised bug), and what its proposer gets. Identical artifacts are never
// validated or solved twice: a later step waits for the first one's verdict and reuses it.
import { semanticKey } from "../artifact/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { ValidationReport } from "../ports/validation.js";

type Verdict = ValidationReport["verdict"];

interface Claim {
  stepIndex: number;
  /** The first step's verdict; null when it ended without one (interrupted, failed), so the next may try. */
  verdict: Promise<Verdict | null>;
}

export class DuplicateRegistry {
  private readonly identical = new Map<string, Claim>();
  private readonly semantic = new Map<string, number>();

  /** What the store already knows (a resumed run): steps with a verdict, in step order. */
  seed(
    steps: readonly { stepIndex: number; artifactId: string; verdict: Verdict; artifact: BugArtifact }[],
  ): void {
    for (const step of steps) {
      if (!this.identical.has(step.artifactId))
        this.identical.set(step.artifactId, {
          stepIndex: step.stepIndex,
          verdict: Promise.resolve(step.verdict),
        });
      if (step.verdict === "valid") this.claimSemantic(step.stepIndex, step.artifact);
    }
  }

  /**
   * The earlier step with the identical artifact and its verdict, or null after claiming the artifact for
   * `stepIndex`: then `settle` must be called with this step's verdict (or null) when it is known.
   */
  async identicalTo(
    artifactId: string,
    stepIndex: number,
  ): Promise<
    | { status: "duplicate"; stepIndex: number; verdict: Verdict }
    | { status: "claimed"; settle(verdict: Verdict | null): void }
  > {
    for (;;) {
      const claim = this.identical.get(artifactId);
      if (!claim || claim.stepIndex === stepIndex) break;
      const verdict = await claim.verdict;
      if (verdict !== null) return { status: "duplicate", stepIndex: claim.stepIndex, verdict };
      // The first step ended without a verdict: the claim is released (below), and this step may take it.
      if (this.identical.get(artifactId) === claim) this.identical.delete(artifactId);
    }
    let settle!: (verdict: Verdict | null) => void;
    const verdict = new Promise<Verdict | null>((resolve) => {
      settle = resolve;
    });
    const claim = { stepIndex, verdict };
    this.identical.set(artifactId, claim);
    return {
      status: "claimed",
      settle: (value) => {
        if (value === null && this.identical.get(artifactId) === claim) this.identical.delete(artifactId);
        settle(value);
      },
    };
  }

  /**
   * The earlier step whose valid artifact has the same semantic key, or null after claiming the key for
   * `stepIndex` (call only for valid artifacts).
   */
  claimSemantic(stepIndex: number, artifact: BugArtifact): number | null {
    const key = semanticKey(artifact.bugInjectDiff);
    if (key === null) return null;
    const earlier = this.semantic.get(key);
    if (earlier !== undefined && earlier !== stepIndex) return earlier;
    this.semantic.set(key, stepIndex);
    return null;
  }
}

/**
 * The proposer's reward for a duplicate: by default -alpha, what a task that teaches nothing earns, since a
 * repeated bug adds no task (giving it the original's reward would pay the policy for repeating itself); a
 * repeat of an invalid artifact stays as bad as invalid.
 */
export function duplicateReward(options: {
  originalVerdict: Verdict;
  configured: number | undefined;
  alpha: number;
  invalidReward: number;
}): number {
  const reward = options.configured ?? -options.alpha;
  return options.originalVerdict === "invalid" ? Math.min(reward, options.invalidReward) : reward;
}
