// The Evaluations page in headless Chromium: two evaluations (two policy versions) of one task set, written
// through the store's own API with their figures computed by the evaluation code, plotted as resolve rate
// with a Wilson interval each; a reader follows an evaluation to an attempt's episode.
// SWE_SELFPLAY_SCREENSHOTS=DIR saves a screenshot of each page there.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { figuresOf } from "../../src/eval/index.js";
import { insertEvaluation, openSqliteStore, type RunId, setEvaluationStatus } from "../../src/store/index.js";
import { type Dashboard, launchChromium, skipBrowser, startDashboard } from "../support/browser.js";
import { projectRoot } from "../support/cli.js";
import { writeSyntheticStep } from "../support/dashboard-store.js";
import { makeTempDir } from "../support/tmp.js";

/** Resolved attempts of 2 per task, for the three tasks of the set. */
const VERSIONS = { v1: [1, 0, 2], v2: [2, 1, 2] } as const;

function writeEvaluations(storePath: string): void {
  const store = openSqliteStore(storePath);
  for (const [version, resolved] of Object.entries(VERSIONS)) {
    const runId = `eval-${version}` as RunId;
    store.createRun({ id: runId, config: {}, seed: 0 });
    const tasks = resolved.map((count, index) => {
      const environment = index < 2 ? "inkwell" : "timespan";
      const written = writeSyntheticStep(store, runId, index, {
        environment,
        groupSize: 2,
        resolved: count,
        testName: `test_task_${index}`,
        policyVersion: version,
      });
      return { taskIndex: index, artifactId: written.artifactId, environment, strategy: "removal" };
    });
    const id = `ev-${version}`;
    insertEvaluation(store, {
      id,
      taskSetId: "set-examples",
      taskSetName: "examples",
      policyKind: "openai",
      policyName: "qwen2.5-coder-0.5b",
      policyVersion: version,
      sampling: '{"temperature":1}',
      attempts: 2,
      runId,
      tasks,
    });
    setEvaluationStatus(store, id, "completed", { figures: figuresOf(store, id, 3, 2) });
  }
  store.close();
}

describe.skipIf(skipBrowser())("Evaluations page in headless Chromium", () => {
  const temp = makeTempDir("swe-selfplay-eval-browser-");
  const storePath = join(temp.path, "store.db");
  const screenshots = process.env.SWE_SELFPLAY_SCREENSHOTS ?? join(temp.path, "screenshots");
  let dashboard: Dashboard | undefined;
  let url = "";
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    writeEvaluations(storePath);
    dashboard = await startDashboard(projectRoot, storePath);
    url = dashboard.url;
    mkdirSync(screenshots, { recursive: true });
    context = await launchChromium(join(temp.path, "profile"));
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await dashboard?.stop();
    temp.remove();
  });

  it("plots resolve rate per policy version with its interval, per task set", async () => {
    await page.goto(url);
    await page.click('nav a[href="/evaluations"]');
    expect(await page.locator("h1").textContent()).toBe("Evaluations");
    expect(await page.locator("section.task-set").count()).toBe(1);
    expect(await page.locator("section.task-set h2").textContent()).toContain("examples");
    expect(await page.locator("svg.interval-plot g.interval").count()).toBe(2);
    const plot = await page.locator("svg.interval-plot").textContent();
    // v1: 3 of 6 attempts; v2: 5 of 6 (Wilson 95 %: [43.6%, 97.0%]).
    expect(plot).toContain("50.0% (3/6)");
    expect(plot).toContain("83.3% (5/6) [43.6%, 97.0%]");
    expect(await page.locator("table.evaluations tbody tr").count()).toBe(2);
    await page.screenshot({ path: join(screenshots, "evaluations.png"), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it("links an evaluation's attempts to their episodes", async () => {
    await page.goto(new URL("/evaluations", url).href);
    await page.click('table.evaluations a[href="/evaluations/ev-v2"]');
    expect(await page.locator("h1").textContent()).toBe("Evaluation ev-v2");
    expect(await page.locator("#attempts tbody tr.attempt").count()).toBe(6);
    await page.screenshot({ path: join(screenshots, "evaluation.png"), fullPage: true });
    await page.locator("#attempts tbody a[href^='/episodes/']").first().click();
    expect(await page.locator("h1").textContent()).toBe("Solver episode");
    expect(errors).toEqual([]);
  }, 60_000);
});
