// Opening a run, once for every command that plays steps: the run loop (orchestrator.ts), the service
// (serve/) and evaluations (eval/). A stored run is restarted (its start count and configuration), the
// episodes a crash left running are aborted, the environments a previous start took out are active again;
// otherwise the run is created. Either way the configured environments are recorded in the run.
import type { SelfPlayConfig } from "../config/index.js";
import type { RunId, RunRecord, Store } from "../ports/store.js";
import { environmentSpec } from "./step-context.js";

export interface RunToOpen {
  /** A stored run to continue; when absent, `create` is opened. */
  resume?: RunId | null;
  /** The run to create when there is none to resume (opened as it is when it exists already). */
  create?: { id: RunId; seed: number; config?: unknown };
}

export interface OpenedRun {
  run: RunRecord;
  resumed: boolean;
  /** Episodes a crash had left running, now aborted. */
  abortedEpisodes: number;
}

export function openRun(store: Store, config: SelfPlayConfig, target: RunToOpen): OpenedRun {
  let opened: OpenedRun;
  if (target.resume) {
    const run = store.restartRun(target.resume, config);
    const abortedEpisodes = store.abortRunningEpisodes(run.id, "crashed");
    store.reactivateEnvironments(run.id);
    opened = { run, resumed: true, abortedEpisodes };
  } else {
    if (!target.create) throw new Error("openRun: no run to resume and none to create");
    const { id, seed } = target.create;
    const run = store.getRun(id) ?? store.createRun({ id, config: target.create.config ?? config, seed });
    opened = { run, resumed: false, abortedEpisodes: 0 };
  }
  for (const environment of config.environments)
    store.upsertEnvironment(opened.run.id, environment.name, environmentSpec(environment));
  return opened;
}
