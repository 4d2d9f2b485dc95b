// A Go build cache per environment, warmed once, so that a fresh sandbox's first `go test` does not compile
// the standard library again (a minute and more on two cores). The shared cache is never written by a
// sandbox: each one gets its own copy-on-write view (an overlay whose upper layer is the sandbox's own, or a
// reflinked copy), the same way it gets its workspace; only the warming run writes the cache, and it runs
// the original environment's code, never a policy's.

import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../../log.js";
import { SANDBOX_PATH } from "./bubblewrap.js";

const log = createLogger("sandbox.local");

/** Where a sandbox sees its Go build cache (GOCACHE). */
export const GO_CACHE_PATH = "/var/cache/go-build";

/** Compiles (and vets) what every package's tests need, running no test; no network, no toolchain download. */
export const GO_WARM_COMMAND =
  "GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod go test -count=1 -run '^$' ./... >/dev/null 2>&1; go version";

const WARM_TIMEOUT_MS = 20 * 60_000;

/** Runs the warming command in a sandbox of the environment whose GOCACHE is `cacheDirectory`, writable. */
export type WarmGoCache = (
  cacheDirectory: string,
  command: string,
  timeoutMs: number,
) => Promise<GoCacheWarming>;

/** How a warming went: the command's status and the tail of its output. */
export type GoCacheWarming = { status: "warmed" | "failed"; detail: string };

/** The go tool the sandbox's PATH finds, or null. */
export function sandboxGoTool(exists: (path: string) => boolean = existsSync): string | null {
  for (const directory of SANDBOX_PATH.split(":"))
    if (exists(join(directory, "go"))) return join(directory, "go");
  return null;
}

/** One warmed cache per (environment, content): later sandboxes of that environment share it read-only. */
export class GoBuildCaches {
  private readonly caches = new Map<string, Promise<string | null>>();
  private readonly goTool: string | null;

  constructor(
    private readonly directory: string,
    goTool: string | null = sandboxGoTool(),
  ) {
    this.goTool = goTool;
  }

  /**
   * The warmed cache of an environment directory with a go.mod at its root whose content is `tree`; null when
   * the environment is no Go module or the sandbox has no go tool. Warmed at most once per process.
   */
  cacheFor(source: string, tree: string, warm: WarmGoCache): Promise<string | null> {
    if (this.goTool === null || !existsSync(join(source, "go.mod"))) return Promise.resolve(null);
    const key = createHash("sha256").update(`${source}\n${tree}\n${this.goTool}`).digest("hex").slice(0, 20);
    let cache = this.caches.get(key);
    if (!cache) {
      cache = this.build(source, key, warm);
      this.caches.set(key, cache);
      cache.catch(() => this.caches.delete(key));
    }
    return cache;
  }

  private async build(source: string, key: string, warm: WarmGoCache): Promise<string | null> {
    const target = join(this.directory, key);
    if (existsSync(join(target, "warmed"))) return target;
    const building = `${target}.building-${process.pid}-${randomBytes(4).toString("hex")}`;
    await mkdir(building, { recursive: true, mode: 0o755 });
    const started = Date.now();
    log.info("warming the Go build cache of an environment (once per content)", { source });
    const outcome = await warm(building, GO_WARM_COMMAND, WARM_TIMEOUT_MS);
    if (outcome.status === "failed") {
      log.warn("the Go build cache could not be warmed; sandboxes compile from scratch", {
        source,
        detail: outcome.detail,
      });
      await rm(building, { recursive: true, force: true });
      return null;
    }
    await writeFile(join(building, "warmed"), `${source}\n`);
    try {
      await rename(building, target);
    } catch {
      await rm(building, { recursive: true, force: true }); // another process finished first
    }
    log.info("Go build cache warmed", { source, seconds: Math.round((Date.now() - started) / 1000) });
    await this.removeOthersOf(source, key);
    return target;
  }

  /** Caches of earlier contents of the same environment, and of environments that are gone. */
  private async removeOthersOf(source: string, keep: string): Promise<void> {
    for (const name of await readdir(this.directory).catch(() => [] as string[])) {
      if (name === keep || name.includes(".building-")) continue;
      const path = join(this.directory, name);
      const owner = await readFile(join(path, "warmed"), "utf8").then(
        (text) => text.trim(),
        () => "",
      );
      if (owner === source || (owner !== "" && !existsSync(owner)))
        await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
