// Utilities for work done in a sandbox of its own: create, use, always destroy; load shipped scripts.
import { readFileSync } from "node:fs";
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

const scripts = new Map<string, string>();

/** A shell or text file shipped next to this module (under src/validation/), read once. */
export function shippedFile(relativePath: string): string {
  let text = scripts.get(relativePath);
  if (text === undefined) {
    text = readFileSync(new URL(relativePath, import.meta.url), "utf8");
    scripts.set(relativePath, text);
  }
  return text;
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
