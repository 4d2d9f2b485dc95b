// The early stop of a run that cannot work: when the first steps on an environment all fail for the same
// environment-level reason (no test command found, the baseline does not pass), more steps would only
// repeat it, so the environment is taken out at once and the reason, with its fix, reaches the user.

interface EnvironmentState {
  reasons: string[];
  /** An outcome that was not an environment-level failure: the environment works, never stop it early. */
  settled: boolean;
}

export class EarlyStop {
  private readonly environments = new Map<string, EnvironmentState>();

  /** @param steps how many first outcomes must agree; 0 never stops. */
  constructor(private readonly steps: number) {}

  /**
   * Records a proposer step's outcome on an environment: the environment-level failure reason, or null for
   * anything else. Returns the reason to take the environment out with, once, or null.
   */
  record(environment: string, environmentFailure: string | null): string | null {
    if (this.steps === 0) return null;
    let state = this.environments.get(environment);
    if (!state) {
      state = { reasons: [], settled: false };
      this.environments.set(environment, state);
    }
    if (state.settled) return null;
    if (environmentFailure === null) {
      state.settled = true;
      return null;
    }
    state.reasons.push(environmentFailure);
    if (state.reasons.length < this.steps) return null;
    state.settled = true;
    return state.reasons.every((reason) => reason === environmentFailure) ? environmentFailure : null;
  }
}
