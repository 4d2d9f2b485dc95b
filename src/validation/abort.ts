// Aborting a validation: the reason it rejects with, and waiting on shared work that an abort cuts short.

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The validation was aborted", "AbortError");
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (shared work such as a baseline keeps running). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
