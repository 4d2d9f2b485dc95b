// One error base class for broken infrastructure and bugs; expected outcomes are data, not exceptions.

export class SweSelfplayError extends Error {
  /** Stable machine-readable code, e.g. "sandbox-unavailable". */
  readonly code: string;
  /** Typed details for whoever catches it (paths, ids, commands). */
  readonly data: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { data?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = options.data ?? {};
  }
}

/** A required engine, tool or image is missing or unreachable (bubblewrap, Docker, an image). */
export class InfrastructureError extends SweSelfplayError {}

/** Input given by a user or an agent is malformed (config, artifact, diff, CLI arguments). */
export class InputError extends SweSelfplayError {}

/** Message of an unknown thrown value, for logs and records. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
