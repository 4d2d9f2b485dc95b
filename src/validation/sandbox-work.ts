// Utilities for work done in a sandbox of its own: create, use, always destroy; load shipped scripts.
import { assetText } from "../assets.js";
import type { Environment, Sandbox, SandboxBackend } from "../ports/sandbox.js";

export async function withSandbox<T>(
  sandboxes: SandboxBackend,
  environment: Environment,
  label: string,
  work: (sandbox: Sandbox) => Promise<T>,
): Promise<T> {
  const sandbox = await sandboxes.create({ environment, label });
  try {
    return await work(sandbox);
  } finally {
    await sandbox.destroy();
  }
}

/** A shell or text file shipped under src/validation/, read once. */
export function shippedFile(relativePath: string): string {
  return assetText(import.meta.url, relativePath);
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // A rejection nobody awaits (the check that needed it was never reached) is not an unhandled error.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
