// A request the service answers with an error status: the code, a message naming what is wrong, and the
// path of the bad field (e.g. body.inference.base_url) where there is one.
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = "RequestError";
  }

  get body(): { error: { code: string; message: string; path?: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details.path ? { path: this.details.path } : {}),
      },
    };
  }
}
