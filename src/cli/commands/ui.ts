// `swe-selfplay ui`: the dashboard over a store, read-only, safe beside a run that writes it.
import { resolve } from "node:path";
import { createLogger } from "../../log.js";
import { parseListen, readToken, startDashboard } from "../../web/index.js";
import type { UiFlags } from "../definitions/ui.js";

const log = createLogger("ui");

export async function ui(flags: UiFlags): Promise<void> {
  const listen = parseListen(flags.listen);
  const token = readToken({ tokenFile: flags.tokenFile });
  const dashboard = await startDashboard({ storePath: resolve(flags.store), listen, token });
  process.stdout.write(
    `dashboard of ${dashboard.store.path} at ${dashboard.url}${token ? " (token required)" : ""}\n`,
  );
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log.info("stopping", { signal });
      dashboard.close().then(done, done);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
