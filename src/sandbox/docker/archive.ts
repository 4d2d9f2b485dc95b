// Files in and out of a container through the Engine API's archive endpoints (tar streams), without exec.

import { posix } from "node:path";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { extract, pack } from "tar-stream";

/** Numeric owner of everything a sandbox's commands create. */
export interface SandboxUser {
  uid: number;
  gid: number;
}

export function userSpec(user: SandboxUser): string {
  return `${user.uid}:${user.gid}`;
}

export type ArchiveRead =
  | { status: "file"; content: Buffer }
  | { status: "missing" }
  | { status: "directory" }
  /** A symbolic link (or other special entry): resolve it inside the container instead. */
  | { status: "special" };

/** Reads one regular file; never follows a symbolic link (the engine returns the link itself). */
export async function readFromArchive(
  container: Docker.Container,
  path: string,
  limit: number,
): Promise<ArchiveRead> {
  let stream: Readable;
  try {
    stream = (await container.getArchive({ path })) as unknown as Readable;
  } catch (error) {
    if (statusCodeOf(error) === 404) return { status: "missing" };
    throw error;
  }
  return new Promise<ArchiveRead>((resolve, reject) => {
    const parser = extract();
    let result: ArchiveRead | undefined;
    parser.on("entry", (header, entry, next) => {
      if (result !== undefined) {
        entry.resume();
        entry.on("end", next);
        return;
      }
      if (header.type === "directory") result = { status: "directory" };
      else if (header.type !== "file" && header.type !== "contiguous-file") result = { status: "special" };
      if (result !== undefined || (header.size ?? 0) > limit) {
        result ??= { status: "special" };
        entry.resume();
        entry.on("end", next);
        return;
      }
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: unknown) => {
        chunks.push(chunk as Buffer);
      });
      entry.on("end", () => {
        result = { status: "file", content: Buffer.concat(chunks) };
        next();
      });
    });
    parser.on("finish", () => resolve(result ?? { status: "missing" }));
    parser.on("error", reject);
    stream.on("error", reject);
    stream.pipe(parser);
  });
}

/**
 * Writes one regular file into an existing directory. Returns false when the directory does not exist
 * (the caller creates it and retries).
 */
export async function writeThroughArchive(
  container: Docker.Container,
  path: string,
  content: Buffer,
  options: { mode: number; owner: SandboxUser },
): Promise<boolean> {
  const archive = pack();
  archive.entry(
    {
      name: posix.basename(path),
      mode: options.mode,
      uid: options.owner.uid,
      gid: options.owner.gid,
      mtime: new Date(),
      size: content.length,
      type: "file",
    },
    content,
  );
  archive.finalize();
  try {
    await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: posix.dirname(path) });
    return true;
  } catch (error) {
    if (statusCodeOf(error) === 404) return false;
    throw error;
  }
}

export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}
