// The dashboard over real HTTP on a real SQLite store: pages, filters and pages of steps, escaping,
// security headers, the token rule, live progress as server-sent events, and read-only access.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../test/support/cli.js";
import { writeSyntheticStep } from "../../test/support/dashboard-store.js";
import { writeFirstSchemaStore } from "../../test/support/first-schema-store.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { openStore, type RunId, recordTrainerIteration, type Store } from "../store/index.js";
import { CONTENT_SECURITY_POLICY } from "./plugin.js";
import { type Dashboard, isLoopback, parseListen, readToken, startDashboard, TOKEN_ENV } from "./server.js";

const PAYLOAD = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;

describe("dashboard server", () => {
  const temp = makeTempDir("swe-selfplay-web-");
  const storePath = join(temp.path, "store.db");
  let writer: Store;
  let dashboard: Dashboard;
  const runId = "run-web-1" as RunId;
  const quietRun = "run-web-2" as RunId;
  let hostile: ReturnType<typeof writeSyntheticStep>;

  beforeAll(async () => {
    writer = openStore(storePath);
    writer.createRun({ id: runId, config: { note: PAYLOAD }, seed: 1 });
    writer.createRun({ id: quietRun, config: {}, seed: 2 });
    for (let index = 0; index < 60; index++)
      writeSyntheticStep(writer, runId, index, {
        strategy: index % 2 === 0 ? "removal" : "history",
        verdict: index % 5 === 4 ? "invalid" : "valid",
        resolved: index % 4,
        policyVersion: index < 30 ? "v1" : "v2",
      });
    hostile = writeSyntheticStep(writer, runId, 60, {
      bugLine: PAYLOAD,
      testName: `test_${PAYLOAD}`,
      text: PAYLOAD,
    });
    writer.setRunStatus(quietRun, "completed");
    dashboard = await startDashboard({
      storePath,
      listen: { host: "127.0.0.1", port: 0 },
      token: null,
      pollMs: 50,
    });
  });

  afterAll(async () => {
    await dashboard?.close();
    writer?.close();
    temp.remove();
  });

  const get = (path: string, init?: RequestInit) => fetch(new URL(path, dashboard.url), init);

  it("lists the runs with their totals and sends a strict content security policy", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const body = await response.text();
    expect(body).toContain(`href="/runs/${runId}"`);
    expect(body).toMatch(/<td class="num">61<\/td>/);
  });

  it("shows a run with plots data, filters and fifty steps a page", async () => {
    const body = await (await get(`/runs/${runId}`)).text();
    const rows = body.match(/<tr data-step="\d+">/g) ?? [];
    expect(rows).toHaveLength(50);
    expect(body).toContain("page 1 of 2 (61 in all)");
    const plots = JSON.parse(
      /<script type="application\/json" id="plot-data">(.*?)<\/script>/s.exec(body)![1]!,
    );
    expect(plots.strategies).toEqual([
      { strategy: "history", finished: 30, valid: 24 },
      { strategy: "removal", finished: 31, valid: 25 },
    ]);
    expect(plots.rejections).toEqual([{ check: "bug", count: 12 }]);
    expect(plots.solveRates.reduce((sum: number, bucket: { count: number }) => sum + bucket.count, 0)).toBe(
      49,
    );
    expect(body).not.toContain('id="trainer"');
  });

  it("filters steps by strategy, verdict, solve rate, policy version and search, and pages them", async () => {
    const count = async (query: string) => {
      const body = await (await get(`/runs/${runId}?${query}`)).text();
      return Number(/\((\d+) in all\)|(\d+) in all/.exec(body)?.slice(1).find(Boolean));
    };
    expect(await count("strategy=history")).toBe(30);
    expect(await count("verdict=invalid")).toBe(12);
    expect(await count("verdict=invalid&check=bug")).toBe(12);
    expect(await count("minRate=0.5&maxRate=1")).toBe(24);
    expect(await count("policy=v2")).toBe(30);
    expect(await count(`q=${hostile.artifactId.slice(0, 10)}`)).toBe(1);
    expect(await count("q=%25")).toBe(0);
    const second = await (await get(`/runs/${runId}?page=2`)).text();
    expect(second).toContain("page 2 of 2");
    expect(second).toContain('<td class="num">0</td>');
  });

  it("answers bad filters with 400 and a message, unknown ids with 404", async () => {
    const bad = await get(`/runs/${runId}?minRate=2`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("minRate must be a number from 0 to 1, got &quot;2&quot;");
    expect((await get(`/runs/${runId}?page=0`)).status).toBe(400);
    expect((await get(`/runs/${runId}?verdict=maybe`)).status).toBe(400);
    expect((await get("/runs/nope")).status).toBe(404);
    expect((await get("/artifacts/nope")).status).toBe(404);
    expect((await get("/episodes/nope")).status).toBe(404);
    expect((await get("/assets/..%2Fserver.ts")).status).toBe(404);
  });

  it("escapes untrusted text everywhere it appears", async () => {
    const pages = [
      `/runs/${runId}`,
      `/artifacts/${hostile.artifactId}`,
      `/episodes/${encodeURIComponent(hostile.solverEpisodes[1]!)}`,
      `/episodes/${encodeURIComponent(hostile.proposerEpisode)}`,
    ];
    for (const path of pages) {
      const body = await (await get(path)).text();
      expect(body, path).not.toContain("<script>window.__xss");
      expect(body, path).not.toMatch(/<img[^>]*onerror/);
      expect(body, path).not.toContain("<img src=x");
    }
    const artifact = await (await get(`/artifacts/${hostile.artifactId}`)).text();
    expect(artifact).toContain("&lt;script&gt;window.__xss=1&lt;/script&gt;");
    expect(artifact).toContain("d2h-file-wrapper");
  });

  it("renders an artifact with its diffs, solver prompt, report and attempts", async () => {
    const step = writeSyntheticStep(writer, quietRun, 0, { resolved: 2, bugLine: "return 41" });
    const body = await (await get(`/artifacts/${step.artifactId}`)).text();
    expect(body).toContain("bug_inject.diff");
    expect(body).toContain("return <ins>41</ins>");
    expect(body).toContain("The test changes below describe the desired behaviour");
    expect(body).toContain("+def test_value_0():");
    expect(body).toContain("tests/test_core.py::test_value_0");
    expect(body).toContain("baseline#1");
    expect((body.match(/class="attempt"/g) ?? []).length).toBe(4);
    expect((body.match(/verdict-resolved/g) ?? []).length).toBe(2);
    for (const episode of step.solverEpisodes)
      expect(body).toContain(`/episodes/${encodeURIComponent(episode)}`);
  });

  it("renders an episode turn by turn with its loss-masked spans", async () => {
    const body = await (await get(`/episodes/${encodeURIComponent(hostile.solverEpisodes[0]!)}`)).text();
    expect(body).toContain("Turn 1");
    expect(body).toContain('<pre class="command">python3 -m pytest -q</pre>');
    expect(body).toContain("15 tokens: prompt 6, sampled (loss mask 1) 6, observed 3");
    expect(body).toMatch(/1\. prompt<\/td><td class="num">0–5/);
    expect(body).toMatch(/2\. sampled<\/td><td class="num">6–9/);
    expect(body).toMatch(/3\. observation<\/td><td class="num">10–12/);
    expect(body).toMatch(/4\. sampled<\/td><td class="num">13–14/);
  });

  it("shows trainer iterations per iteration and per policy version once a trainer records them", async () => {
    recordTrainerIteration(writer, {
      runId: quietRun,
      iteration: 0,
      policyVersion: "v1",
      metrics: { reward_mean: -0.5, solve_rate: 0.25 },
    });
    recordTrainerIteration(writer, {
      runId: quietRun,
      iteration: 1,
      policyVersion: "v2",
      metrics: { reward_mean: 0.1, solve_rate: 0.5 },
    });
    recordTrainerIteration(writer, {
      runId: quietRun,
      iteration: 2,
      policyVersion: "v2",
      metrics: { reward_mean: 0.3, solve_rate: 0.7 },
    });
    expect(() =>
      recordTrainerIteration(writer, {
        runId: quietRun,
        iteration: 3,
        policyVersion: "v3",
        metrics: { loss: Number.NaN },
      }),
    ).toThrow(/metric "loss" is NaN/);
    const body = await (await get(`/runs/${quietRun}`)).text();
    expect(body).toContain('id="trainer"');
    expect(body).toMatch(
      /<td>v2<\/td><td class="num">2<\/td><td class="num">0\.200<\/td><td class="num">0\.600<\/td>/,
    );
    const plots = (await (await get(`/runs/${quietRun}/plots.json`)).json()) as { trainer: unknown[] };
    expect(plots.trainer).toHaveLength(3);
  });

  it("shows the trainer health metrics per iteration, a dash where an iteration lacks one", async () => {
    const run = "run-web-health" as RunId;
    writer.createRun({ id: run, config: {}, seed: 5 });
    recordTrainerIteration(writer, {
      runId: run,
      iteration: 1,
      policyVersion: "policy-v1",
      metrics: { kl_to_previous: 0.0123, entropy: 1.5, grad_norm: 0.75, "ratio.max": 1.25, stale_samples: 2 },
    });
    recordTrainerIteration(writer, {
      runId: run,
      iteration: 2,
      policyVersion: "policy-v1",
      metrics: { entropy: 1.25, dropped_samples: 3 },
    });
    const body = await (await get(`/runs/${run}`)).text();
    expect(body).toContain('id="trainer-health"');
    expect(body).toContain("<th>KL to previous</th><th>entropy</th><th>grad norm</th><th>ratio max</th>");
    expect(body).toMatch(
      /<tr><td class="num">1<\/td><td>policy-v1<\/td><td class="num">0\.012<\/td><td class="num">1\.500<\/td><td class="num">0\.750<\/td><td class="num">1\.250<\/td><td class="num">2\.000<\/td><td class="num">–<\/td><\/tr>/,
    );
    expect(body).not.toContain("<th>tool-call validity</th>");
  });

  it("streams a running run's progress as server-sent events while another process writes", async () => {
    const live = "run-web-live" as RunId;
    writer.createRun({ id: live, config: {}, seed: 3 });
    const controller = new AbortController();
    const response = await get(`/runs/${live}/events`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: { steps: number; status: string }[] = [];
    let buffer = "";
    const next = async () => {
      for (;;) {
        const match = /event: (\w+)\ndata: (.*)\n\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          return { event: match[1]!, data: JSON.parse(match[2]!) };
        }
        const chunk = await reader.read();
        if (chunk.done) throw new Error("stream ended");
        buffer += chunk.value;
      }
    };
    const first = await next();
    events.push({ steps: first.data.totals.steps, status: first.data.status });
    writeSyntheticStep(writer, live, 0);
    const second = await next();
    events.push({ steps: second.data.totals.steps, status: second.data.status });
    writer.setRunStatus(live, "completed");
    const third = await next();
    events.push({ steps: third.data.totals.steps, status: third.data.status });
    expect((await next()).event).toBe("end");
    controller.abort();
    expect(events).toEqual([
      { steps: 0, status: "running" },
      { steps: 1, status: "running" },
      { steps: 1, status: "completed" },
    ]);
  });

  it("opens the store read-only", () => {
    expect(dashboard.store.db.readonly).toBe(true);
    expect(() => dashboard.store.db.exec("DELETE FROM runs")).toThrow(/readonly/);
  });
});

describe("dashboard access rules", () => {
  const temp = makeTempDir("swe-selfplay-web-auth-");
  const storePath = join(temp.path, "store.db");

  beforeAll(() => {
    const store = openStore(storePath);
    store.createRun({ id: "run-a" as RunId, config: {}, seed: 0 });
    store.close();
  });
  afterAll(() => temp.remove());

  it("parses listen addresses and knows loopback hosts", () => {
    expect(parseListen("127.0.0.1:8765")).toEqual({ host: "127.0.0.1", port: 8765 });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(() => parseListen("8765")).toThrow(/--listen expects HOST:PORT/);
    expect(() => parseListen("host:99999")).toThrow(/HOST:PORT/);
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("localhost")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
    expect(isLoopback("192.168.1.5")).toBe(false);
  });

  it("reads the token from a file or the environment", () => {
    const file = join(temp.path, "token");
    writeFileSync(file, "s3cret\n");
    expect(readToken({ tokenFile: file })).toBe("s3cret");
    expect(readToken({ env: { [TOKEN_ENV]: " t0ken " } })).toBe("t0ken");
    expect(readToken({ env: {} })).toBeNull();
    writeFileSync(file, "\n");
    expect(() => readToken({ tokenFile: file })).toThrow(/holds no token/);
    expect(() => readToken({ tokenFile: join(temp.path, "none") })).toThrow(/does not exist/);
  });

  it("refuses a non-loopback address without a token, and a missing store", async () => {
    await expect(
      startDashboard({ storePath, listen: { host: "0.0.0.0", port: 0 }, token: null }),
    ).rejects.toThrow(/needs a token: set SWE_SELFPLAY_UI_TOKEN or pass --token-file/);
    await expect(
      startDashboard({
        storePath: join(temp.path, "missing.db"),
        listen: { host: "127.0.0.1", port: 0 },
        token: null,
      }),
    ).rejects.toThrow(/no store at/);
  });

  it("the ui command refuses a non-loopback address without a token, and never prints a token", async () => {
    const refused = await runCli(["ui", "--store", storePath, "--listen", "0.0.0.0:0"], {
      env: { [TOKEN_ENV]: "" },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("needs a token");
    const started = await runCli(["ui", "--store", storePath, "--listen", "bad"], {
      env: { [TOKEN_ENV]: "not-for-logs" },
    });
    expect(started.code).toBe(2);
    expect(started.stderr).toContain("--listen expects HOST:PORT");
    expect(started.stdout + started.stderr).not.toContain("not-for-logs");
  });

  it("reads a store of the first schema, which has no trainer table and none of the later indexes", async () => {
    const path = join(temp.path, "schema-1.db");
    writeFirstSchemaStore(path);
    const dashboard = await startDashboard({
      storePath: path,
      listen: { host: "127.0.0.1", port: 0 },
      token: null,
    });
    try {
      const response = await fetch(new URL("/runs/run-old?policy=v1", dashboard.url));
      expect(response.status).toBe(200);
      expect(await response.text()).not.toContain('id="trainer"');
    } finally {
      await dashboard.close();
    }
  });

  it("closes while a browser still listens to a running run's events", async () => {
    const dashboard = await startDashboard({
      storePath,
      listen: { host: "127.0.0.1", port: 0 },
      token: null,
    });
    const response = await fetch(new URL("/runs/run-a/events", dashboard.url));
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("event: progress");
    await dashboard.close();
    await expect(reader.read()).rejects.toThrow();
  });

  it("asks for the token on every request and lets a browser sign in once through a cookie", async () => {
    const dashboard = await startDashboard({
      storePath,
      listen: { host: "127.0.0.1", port: 0 },
      token: "s3cret",
    });
    try {
      const url = (path: string) => new URL(path, dashboard.url);
      expect((await fetch(url("/"))).status).toBe(401);
      expect((await fetch(url("/assets/run.js"))).status).toBe(401);
      expect((await fetch(url("/"), { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await fetch(url("/"), { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
      const signIn = await fetch(url("/runs/run-a?token=s3cret&page=1"), { redirect: "manual" });
      expect(signIn.status).toBe(303);
      expect(signIn.headers.get("location")).toBe("/runs/run-a?page=1");
      const cookie = signIn.headers.get("set-cookie")!;
      expect(cookie).toContain("HttpOnly");
      expect((await fetch(url("/runs/run-a"), { headers: { cookie: cookie.split(";")[0]! } })).status).toBe(
        200,
      );
    } finally {
      await dashboard.close();
    }
  });
});
