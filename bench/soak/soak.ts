// The soak of `swe-selfplay serve`: steps in flight (built-in policy, the example libraries) for a given
// length while a fault injector, on a schedule drawn from a seed, kills sandbox processes, kills the service
// (SIGKILL) and starts it again on the same store, fills the soak's own tmpfs, submits test suites that fork
// without limit and that eat memory (the sandbox's limits must hold them), and slows the disk of the
// service's own blkio group. Afterwards it checks that every step ended with a true status and reason,
// every result was delivered exactly once (results API with acks), the store holds what was delivered, and
// nothing the soak's services started is left: processes, mounts, control groups, containers, temporary
// files. Used by bench/soak/run.ts (minutes, seed, figures) and by the 3-minute test in CI.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { LABELS, parseOwner } from "../../src/sandbox/docker/ownership.js";
import { markedProcesses } from "../../src/sandbox/local/launcher-marker.js";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { isFinished } from "../../src/selfplay/step-state.js";
import { listServiceSteps, openSqliteStore } from "../../src/store/index.js";
import { call, type ServeProcess, startServe } from "../../test/serve/serve-process.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { systemView } from "../../test/support/system-resources.js";
import { makeTempDir } from "../../test/support/tmp.js";
import {
  FAULT_KINDS,
  type FaultKind,
  faultSchedule,
  fillFilesystem,
  ownTemporaryFilesystem,
  restartDockerd,
  SlowDisk,
  sandboxedProcesses,
  seededRandom,
} from "./faults.js";

export interface SoakOptions {
  /** Length of the soak: steps are submitted until then, then the ones in flight are waited for. */
  minutes: number;
  seed: number;
  /** False: the same soak without faults (the latency baseline). */
  faults: boolean;
  /** Steps kept in flight by the client. Default 3. */
  stepsInFlight?: number;
  /** Mean time between faults, seconds. Default 20. */
  faultEverySeconds?: number;
  /** Adds the dockerd restart to the fault kinds (touches the whole machine; never in CI). */
  restartDockerd?: boolean;
  /** Longest wait for the steps in flight once the soak's length is over, minutes. Default 5. */
  drainMinutes?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  seed: number;
  steps: { submitted: number; done: number; failed: number; cancelled: number };
  faults: Partial<Record<FaultKind, number>>;
  /** Faults that could not be injected here, with why. */
  skipped: string[];
  /** Accepted requests whose result never came (goal 0). */
  lost: number;
  /** Requests that got a second step or a second result (goal 0). */
  duplicated: number;
  /** What is left of what the soak's services started, by kind (goal 0 each). */
  leaked: Record<string, number>;
  latencyMs: { p50: number; p99: number; count: number };
  /** Each broken expectation, in words (empty when the soak held). */
  problems: string[];
}

/** Soaks started by this process: each gets a blkio group of its own (a baseline runs beside a soak). */
let soaks = 0;

const SANDBOX_LIMITS = { pids: 256, memoryBytes: 768 * 1024 ** 2 };
const TMPFS_MIB = 1024;

interface Delivery {
  stepId: string;
  status: string;
  reason: string | undefined;
  resultSteps: number;
  latencyMs: number;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const scratch = makeTempDir("swe-selfplay-soak-");
  const temporary = ownTemporaryFilesystem(join(scratch.path, "tmpfs"), TMPFS_MIB);
  const slowDisk = new SlowDisk(`swe-selfplay-soak-${process.pid}-${++soaks}`, scratch.path);
  const problems: string[] = [];
  const skipped: string[] = [];
  let serve: ServeProcess | undefined;
  try {
    const tmpfs = join(scratch.path, "tmpfs");
    const environment = {
      TMPDIR: join(tmpfs, "tmp"),
      XDG_RUNTIME_DIR: join(tmpfs, "run"),
      SWE_SELFPLAY_RUN_TAG: `soak-${process.pid}-${options.seed}`,
    };
    mkdirSync(environment.TMPDIR, { recursive: true, mode: 0o1777 });
    mkdirSync(environment.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
    const runtimeDirectory = join(environment.XDG_RUNTIME_DIR, "swe-selfplay");
    const repos = join(scratch.path, "repos");
    mkdirSync(repos);
    const inkwell = await makePythonFixtureRepo(repos);
    const timespan = await makeNodeFixtureRepo(repos);
    const forker = faultRepo(
      join(repos, "forker"),
      "import os\n\ndef test_forks():\n    while True:\n        os.fork()\n",
    );
    const eater = faultRepo(
      join(repos, "eater"),
      "def test_eats():\n    held = []\n    while True:\n        held.append(bytearray(32 * 1024 * 1024))\n",
    );
    const store = join(scratch.path, "store.db");
    const args = [
      "--store",
      store,
      ...["inkwell", inkwell, "timespan", timespan, "forker", forker, "eater", eater].flatMap(
        (value, index, all) => (index % 2 === 0 ? ["--repo", `${value}=${all[index + 1]}`] : []),
      ),
      ...settings({
        "serve.stepsInFlight": options.stepsInFlight ?? 3,
        "serve.queueCapacity": 64,
        "concurrency.sandboxes": 12,
        "sandbox.pids": SANDBOX_LIMITS.pids,
        "sandbox.memoryBytes": SANDBOX_LIMITS.memoryBytes,
        "thresholds.testTimeoutMs": 30_000,
      }),
    ];
    const owners: number[] = [];
    let stopping = false;
    const start = async () => {
      const started = await startServe(args, { env: environment, timeoutMs: 120_000 });
      serve = started;
      owners.push(started.child.pid!);
      if (slowDisk.available) slowDisk.adopt(started.child.pid!);
      // A service that dies without being killed by the soak is a finding; it is started again, as a
      // supervisor would, so the soak goes on.
      started.child.once("exit", (code, signal) => {
        if (stopping || killing.has(started.child.pid!)) return;
        const tail = started.stderr().trim().split("\n").slice(-5).join(" | ");
        problems.push(`service ${started.child.pid} exited on its own (${signal ?? code}): ${tail}`);
        void start();
      });
    };
    const killing = new Set<number>();
    await start();
    const url = () => serve!.url;

    const lengthMs = options.minutes * 60_000;
    const startedAt = Date.now();
    const kinds = FAULT_KINDS.filter((kind) => {
      if (kind === "restart-dockerd") return options.restartDockerd === true;
      if (kind === "fill-temp" && !temporary.mounted)
        return note(skipped, "fill-temp: no tmpfs of our own (not root)");
      if (kind === "slow-disk" && !slowDisk.available)
        return note(skipped, "slow-disk: no blkio group of our own on a block device here");
      return true;
    });
    const schedule = options.faults
      ? faultSchedule(options.seed, lengthMs, (options.faultEverySeconds ?? 20) * 1000, kinds)
      : [];
    const faults: Partial<Record<FaultKind, number>> = {};
    const random = seededRandom(options.seed ^ 0x5eed);

    // The client: requests with ids, resubmitted after a restart (a trainer does not know what was accepted),
    // results read from the results API and acknowledged.
    const deliveries = new Map<string, Delivery[]>();
    const accepted = new Map<string, string>();
    const bodies = new Map<string, Record<string, unknown>>();
    let duplicated = 0;
    let counter = 0;
    let fatal: string | undefined;
    const newRequest = (environmentName?: string) => {
      const requestId = `soak-${options.seed}-${++counter}`;
      const body = {
        request_id: requestId,
        inference: { kind: "builtin" },
        policy_version: "soak",
        group_size: 2,
        ...(environmentName ? { environment: environmentName } : {}),
      };
      bodies.set(requestId, body);
      return requestId;
    };
    const submit = async (requestId: string): Promise<string> => {
      for (;;) {
        const answer = await attempt(() =>
          call(`${url()}/v1/steps`, { body: bodies.get(requestId), signal: AbortSignal.timeout(60_000) }),
        );
        if (answer && (answer.status === 202 || answer.status === 200)) {
          const stepId = answer.body.step_id as string;
          const known = accepted.get(requestId);
          if (known !== undefined && known !== stepId) {
            duplicated++;
            problems.push(`request ${requestId} got a second step: ${known}, then ${stepId}`);
          }
          accepted.set(requestId, stepId);
          return stepId;
        }
        if (answer && answer.status !== 429) {
          // A request the service refuses is the soak's own mistake: stop rather than repeat it.
          fatal ??= `submit ${requestId}: ${answer.status} ${JSON.stringify(answer.body)}`;
          throw new Error(fatal);
        }
        await sleep(1_000);
      }
    };
    const play = async (requestId: string): Promise<void> => {
      const submittedAt = Date.now();
      const stepId = await submit(requestId);
      for (;;) {
        const answer = await attempt(() =>
          call(`${url()}/v1/steps/${stepId}?wait=10`, { signal: AbortSignal.timeout(60_000) }),
        );
        if (!answer) {
          await sleep(500);
          continue;
        }
        if (answer.status === 404 || answer.status === 410) {
          problems.push(
            `step ${stepId} of ${requestId} answered ${answer.status} before its result was read`,
          );
          return;
        }
        const view = answer.body as { status: string; reason?: string; result?: { samples?: unknown[] } };
        if (view.status === "queued" || view.status === "running") continue;
        const delivery: Delivery = {
          stepId,
          status: view.status,
          reason: view.reason,
          resultSteps: view.result ? 1 : 0,
          latencyMs: Date.now() - submittedAt,
        };
        const seen = deliveries.get(requestId) ?? [];
        seen.push(delivery);
        deliveries.set(requestId, seen);
        for (;;) {
          const acked = await attempt(() =>
            call(`${url()}/v1/steps/${stepId}/ack`, { method: "POST", signal: AbortSignal.timeout(60_000) }),
          );
          if (acked && (acked.status === 200 || acked.status === 410)) break;
          await sleep(500);
        }
        return;
      }
    };

    const inFlight = new Set<Promise<void>>();
    const launch = (requestId: string) => {
      const work: Promise<void> = play(requestId)
        .catch((error: unknown) => {
          problems.push(`request ${requestId}: ${String(error)}`);
        })
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    };
    const inject = async (kind: FaultKind): Promise<string | undefined> => {
      switch (kind) {
        case "kill-sandbox-process": {
          // Right after a restart nothing may run yet: look for half a minute.
          for (let tries = 0; tries < 60; tries++) {
            const victims = sandboxedProcesses(owners);
            if (victims.length > 0) {
              const victim = victims[Math.floor(random() * victims.length)]!;
              try {
                process.kill(victim, "SIGKILL");
                return `killed ${victim}`;
              } catch {
                // gone meanwhile
              }
            }
            await sleep(500);
          }
          return undefined;
        }
        case "kill-service": {
          const old = serve!;
          killing.add(old.child.pid!);
          await old.kill();
          await start();
          // A client that lost its connection resubmits what it sent: the same step must come back.
          await Promise.all([...accepted.keys()].filter((id) => !deliveries.has(id)).map((id) => submit(id)));
          return `service ${old.child.pid} killed, ${serve!.child.pid} started`;
        }
        case "fill-temp": {
          const free = fillFilesystem(tmpfs);
          await sleep(15_000);
          free();
          return "tmpfs full for 15 s";
        }
        case "fork-suite":
          launch(newRequest("forker"));
          return "a step on a suite that forks without limit";
        case "memory-suite":
          launch(newRequest("eater"));
          return "a step on a suite that eats memory";
        case "slow-disk":
          slowDisk.limit(256 * 1024);
          await sleep(20_000);
          slowDisk.limit(0);
          return "256 KiB/s for 20 s";
        case "restart-dockerd":
          return restartDockerd();
      }
    };

    const injector = (async () => {
      for (const fault of schedule) {
        const wait = startedAt + fault.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const done = await inject(fault.kind).catch((error: unknown) => {
          problems.push(`the ${fault.kind} fault failed: ${String(error)}`);
          return undefined;
        });
        if (done) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
        log(`${Math.round((Date.now() - startedAt) / 1000)}s fault ${fault.kind}: ${done ?? "not injected"}`);
      }
    })();
    const names = ["inkwell", "timespan"];
    while (Date.now() - startedAt < lengthMs && fatal === undefined) {
      while (inFlight.size < (options.stepsInFlight ?? 3)) launch(newRequest(names[counter % names.length]));
      await Promise.race([...inFlight, sleep(5_000)]);
    }
    await injector;
    const drainUntil = Date.now() + (options.drainMinutes ?? 5) * 60_000;
    while (inFlight.size > 0 && Date.now() < drainUntil) await Promise.race([...inFlight, sleep(5_000)]);
    if (inFlight.size > 0) problems.push(`${inFlight.size} request(s) still in flight after the drain`);
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    // What the steps held is freed as they end, a control group held by a dying process a little later.
    let resources: Record<string, number> | undefined;
    for (let waited = 0; waited <= 30_000; waited += 1_000) {
      const stats = await attempt(() => call(`${url()}/v1/stats`));
      resources = (stats?.body as { resources?: Record<string, number> } | undefined)?.resources;
      if (
        resources &&
        Object.entries(resources).every(([kind, count]) => kind === "containers" || count === 0)
      )
        break;
      await sleep(1_000);
    }
    stopping = true;
    const exitCode = await serve!.stop();
    serve = undefined;
    if (exitCode !== 0) problems.push(`the service exited with ${exitCode} on SIGTERM`);

    // Delivered exactly once, with a true status and reason.
    let lost = 0;
    const steps = { submitted: accepted.size, done: 0, failed: 0, cancelled: 0 };
    const latencies: number[] = [];
    for (const [requestId, stepId] of accepted) {
      const seen = deliveries.get(requestId) ?? [];
      if (seen.length === 0) {
        lost++;
        problems.push(`request ${requestId} (step ${stepId}) never delivered a result`);
        continue;
      }
      if (seen.length > 1) {
        duplicated++;
        problems.push(`request ${requestId} delivered ${seen.length} results`);
      }
      const delivery = seen[0]!;
      latencies.push(delivery.latencyMs);
      if (delivery.status === "done") steps.done++;
      else if (delivery.status === "failed") steps.failed++;
      else if (delivery.status === "cancelled") steps.cancelled++;
      else problems.push(`request ${requestId} ended with status ${delivery.status}`);
      if (delivery.status !== "done" && !delivery.reason)
        problems.push(`request ${requestId} ended ${delivery.status} without a reason`);
      if (delivery.status === "done" && delivery.resultSteps !== 1)
        problems.push(`request ${requestId} is done without a result`);
    }
    problems.push(...storeProblems(store, accepted, deliveries));
    const leaked = await leftovers({ owners, runtimeDirectory, tmpfs, slowDisk, environment, problems });
    for (const [kind, count] of Object.entries(leaked))
      if (count > 0) problems.push(`leaked ${kind}: ${count}`);
    for (const [kind, count] of Object.entries(resources ?? {}))
      if (kind !== "containers" && count !== 0)
        problems.push(`/v1/stats after the drain: ${kind} = ${count}`);
    return {
      seconds,
      seed: options.seed,
      steps,
      faults,
      skipped,
      lost,
      duplicated,
      leaked,
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        count: latencies.length,
      },
      problems,
    };
  } finally {
    if (serve) await serve.kill();
    slowDisk.remove();
    temporary.remove();
    scratch.remove();
  }
}

/** The store's side: one service step per request id, ended, acknowledged, with the status delivered. */
function storeProblems(
  path: string,
  accepted: Map<string, string>,
  deliveries: Map<string, Delivery[]>,
): string[] {
  const problems: string[] = [];
  const store = openSqliteStore(path, { readonly: true });
  try {
    const all = listServiceSteps(store, ["queued", "running", "done", "failed", "cancelled"]);
    const byRequest = new Map<string, number>();
    for (const step of all) byRequest.set(step.requestId, (byRequest.get(step.requestId) ?? 0) + 1);
    for (const [requestId, count] of byRequest)
      if (count > 1) problems.push(`store: request ${requestId} has ${count} service steps`);
    for (const step of all) {
      if (!accepted.has(step.requestId)) problems.push(`store: step ${step.stepId} of an unknown request`);
      if (step.status === "queued" || step.status === "running")
        problems.push(`store: step ${step.stepId} is still ${step.status}`);
      if (step.ackedAt === null) problems.push(`store: step ${step.stepId} was never acknowledged`);
      const delivered = deliveries.get(step.requestId)?.[0];
      if (delivered && delivered.status !== step.status)
        problems.push(`store: step ${step.stepId} is ${step.status} but ${delivered.status} was delivered`);
    }
    for (const run of store.listRuns()) {
      for (const violation of runInvariantViolations(store, run.id)) problems.push(`store: ${violation}`);
      for (const step of store.listSteps(run.id))
        if (!isFinished(step))
          problems.push(`store: run step ${run.id}/${step.stepIndex} is still ${step.state}`);
      for (const episode of store.listEpisodes(run.id))
        if (episode.state === "running") problems.push(`store: episode ${episode.id} is still running`);
    }
  } finally {
    store.close();
  }
  return problems;
}

/** What is left of what the soak's services started: each count's goal is 0. */
async function leftovers(scope: {
  owners: number[];
  runtimeDirectory: string;
  tmpfs: string;
  slowDisk: SlowDisk;
  environment: { TMPDIR: string };
  problems: string[];
}): Promise<Record<string, number>> {
  // The exit hook and the next start's sweeps run asynchronously a little after a stop: give them a moment.
  let view = systemView({ owners: scope.owners, runtimeDirectory: scope.runtimeDirectory });
  const busy = () => view.markedProcesses + view.cgroups + scope.slowDisk.members().length > 0;
  for (let waited = 0; waited < 15_000 && busy(); waited += 500) {
    await sleep(500);
    view = systemView({ owners: scope.owners, runtimeDirectory: scope.runtimeDirectory });
  }
  return {
    sandboxProcesses: describeProcesses(
      markedProcesses((_tag, owner) => scope.owners.includes(owner)).map((entry) => entry.pid),
      scope.problems,
    ),
    serviceProcesses: describeProcesses(scope.slowDisk.members(), scope.problems),
    mounts: view.mounts,
    cgroups: view.cgroups,
    containers: await ownContainers(scope.owners),
    temporaryDirectories: view.stateDirectories,
    // tsx keeps its compile cache in the temporary directory (the service runs through tsx here): not ours.
    temporaryFiles: readdirSync(scope.environment.TMPDIR).filter((name) => !name.startsWith("tsx-")).length,
  };
}

/** Counts processes left behind and names them in the problems. */
function describeProcesses(pids: number[], problems: string[]): number {
  for (const pid of pids) {
    let command = "?";
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 200);
    } catch {
      // gone meanwhile
    }
    problems.push(`left behind: ${pid} ${command}`);
  }
  return pids.length;
}

/** Containers labelled as owned by one of these processes. */
async function ownContainers(owners: number[]): Promise<number> {
  try {
    const containers = await new Docker().listContainers({ all: true, filters: { label: [LABELS.owner] } });
    return containers.filter((container) => {
      const owner = parseOwner(container.Labels?.[LABELS.owner] ?? "");
      return owner !== undefined && owners.includes(owner.pid);
    }).length;
  } catch {
    return 0;
  }
}

/** A small Python repository whose one test runs away (a fault of the sandbox's limits to hold). */
function faultRepo(path: string, test: string): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "test_runaway.py"), test);
  writeFileSync(join(path, "app.py"), "def value():\n    return 1\n");
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=soak", "-c", "user.email=soak@example.invalid", ...args], {
      cwd: path,
    });
  git("init", "--quiet");
  git("add", ".");
  git("commit", "--quiet", "-m", "runaway suite");
  return path;
}

function settings(values: Record<string, number>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ["--set", `${key}=${value}`]);
}

function note(list: string[], why: string): false {
  list.push(why);
  return false;
}

/** The call's answer, or undefined while the service is down (refused, reset, or no answer in a minute). */
async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch {
    return undefined;
  }
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
