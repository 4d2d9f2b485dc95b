// Browser gating for tests: Debian's Chromium driven by playwright-core. In CI (CI=true) a missing browser
// fails the suite; elsewhere the tests say *skipped, why*, like the Docker tests.
import { existsSync } from "node:fs";
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
