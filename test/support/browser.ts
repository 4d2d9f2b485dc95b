// Browser gating for tests: Debian's Chromium driven by playwright-core. In CI (CI=true) a missing browser
// fails the suite; elsewhere the tests say *skipped, why*, like the Docker tests.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.SWE_SELFPLAY_CHROMIUM ?? "/usr/bin/chromium";

/** True when browser tests should be skipped. Use as `describe.skipIf(skipBrowser())(...)`. */
export function skipBrowser(): boolean {
  if (existsSync(CHROMIUM_PATH)) return false;
  const why = `no Chromium at ${CHROMIUM_PATH} (install it: bash scripts/install-chromium.sh)`;
  if (process.env.CI === "true") throw new Error(`CI=true but ${why}`);
  process.stderr.write(`skipped, why: ${why}\n`);
  return true;
}

/** Headless Chromium with a fresh profile (userDataDir), no background traffic, nothing fetched from outside. */
export function launchChromium(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A running `swe-selfplay ui` over a store, on a free loopback port. */
export interface Dashboard {
  url: string;
  /** Ends the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `swe-selfplay ui --store STORE` from the checkout and waits for the address it prints. */
export async function startDashboard(projectRoot: string, storePath: string): Promise<Dashboard> {
  const server: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(projectRoot, "src/cli/main.ts"),
      "ui",
      "--store",
      storePath,
      "--listen",
      "127.0.0.1:0",
    ],
    { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    server.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const match = /at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    server.on("exit", (code) => reject(new Error(`ui exited with ${code}: ${output}`)));
  });
  return {
    url,
    async stop() {
      if (server.pid && server.exitCode === null) {
        const exited = new Promise((resolve) => server.once("exit", resolve));
        server.kill("SIGTERM");
        await exited;
      }
    },
  };
}
