// The dashboard in a real browser (Debian's headless Chromium through playwright-core) on a store made by a
// real run of the built-in policy: the default job's summary names the command, `swe-selfplay ui` serves the
// store, and a reader clicks run → artifact → episode. A stored bug whose diff, test output, test ids and
// strategy carry <script> and event-handler payloads is shown as text and runs nothing.
// SWE_SELFPLAY_SCREENSHOTS=DIR saves a screenshot of each page there (docs/dashboard holds the committed ones).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type RunId } from "../../src/store/index.js";
import { type Dashboard, launchChromium, skipBrowser, startDashboard } from "../support/browser.js";
import { projectRoot, runCli } from "../support/cli.js";
import { writeSyntheticStep } from "../support/dashboard-store.js";
import { makeTempDir } from "../support/tmp.js";

const PAYLOAD = `<script>alert(1);window.__xss=1</script><img src=x onerror="alert(2);window.__xss=2"><b onmouseover=alert(3)>x</b>`;

describe.skipIf(skipBrowser())("dashboard in headless Chromium", () => {
  const temp = makeTempDir("swe-selfplay-browser-");
  const storePath = join(temp.path, "store.db");
  const screenshots = process.env.SWE_SELFPLAY_SCREENSHOTS ?? join(temp.path, "screenshots");
  let runStdout = "";
  let runId: RunId;
  let hostile: ReturnType<typeof writeSyntheticStep>;
  let dashboard: Dashboard | undefined;
  let url = "";
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const run = await runCli(
      [
        "run",
        "--store",
        storePath,
        "--steps",
        "2",
        "--group-size",
        "2",
        "--no-progress",
        "--set",
        "policy.kind=builtin",
        "--set",
        "policy.testRunBudget=4",
        "--set",
        "thresholds.baselineRuns=1",
      ],
      { timeoutMs: 400_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    runStdout = run.stdout;
    const reader = openStore(storePath, { readonly: true });
    runId = reader.latestRun()!.id;
    reader.close();
    dashboard = await startDashboard(projectRoot, storePath);
    url = dashboard.url;
    mkdirSync(screenshots, { recursive: true });
    context = await launchChromium(join(temp.path, "profile"));
    page = context.pages()[0] ?? (await context.newPage());
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    await dashboard?.stop();
    temp.remove();
  });

  const shoot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

  /** Nothing from the store became markup or ran: no payload element, no handler, no dialog, no flag. */
  async function expectNothingRan() {
    const found = await page.evaluate(() => ({
      flag: (window as unknown as { __xss?: number }).__xss ?? null,
      inlineScripts: document.querySelectorAll('script:not([src]):not([type="application/json"])').length,
      handlers: document.querySelectorAll("[onerror],[onmouseover],[onload],[onclick]").length,
      images: document.querySelectorAll("img").length,
      bold: document.querySelectorAll("main b").length,
    }));
    expect(found).toEqual({ flag: null, inlineScripts: 0, handlers: 0, images: 0, bold: 0 });
    expect(dialogs).toEqual([]);
  }

  it("the default job's summary prints the command that opens the dashboard on its store", () => {
    expect(runStdout).toMatch(
      new RegExp(`^dashboard\\s+npx swe-selfplay ui --store ${storePath.replaceAll(".", "\\.")}$`, "m"),
    );
  });

  it("follows a run to an artifact and a solver episode", async () => {
    await page.goto(url);
    expect(await page.locator("#runs tbody tr").count()).toBe(1);
    expect(await page.locator("#runs tbody").textContent()).toContain(runId);
    await shoot("runs");

    await page.click(`#runs a[href="/runs/${runId}"]`);
    await page.waitForFunction(() => {
      const chart = (window as unknown as { Chart?: { getChart(id: string): unknown } }).Chart;
      return (
        chart !== undefined &&
        ["plot-solve-rates", "plot-rewards", "plot-strategies", "plot-rejections"].every((id) =>
          chart.getChart(id),
        )
      );
    });
    expect(await page.locator('#totals [data-key="steps"]').textContent()).toBe("2");
    expect(await page.locator("#step-table tbody tr").count()).toBe(2);
    await shoot("run");

    await page.click('#step-table tr[data-step="0"] a.artifact-link');
    await page.waitForSelector("#bug-diff .d2h-file-wrapper");
    expect(await page.locator("#weaken-diff .d2h-file-wrapper").count()).toBeGreaterThan(0);
    expect(await page.locator("#specification pre").textContent()).toContain("/testbed");
    expect(await page.locator("#validation h3").first().textContent()).toMatch(/valid/);
    expect(await page.locator("#validation .check").count()).toBe(8);
    expect(await page.locator("#attempts tr.attempt").count()).toBe(2);
    await shoot("artifact");

    await page.locator("#attempts a.episode-link").first().click();
    await page.waitForSelector("#trajectory");
    expect(await page.locator("h1").textContent()).toBe("Solver episode");
    expect((await page.locator("#exit-reason").textContent())?.trim()).not.toBe("–");
    expect(await page.locator("#trajectory li.turn").count()).toBeGreaterThan(0);
    await shoot("episode");
    expect(errors).toEqual([]);
  });

  it("shows a hostile bug's diff, test output and ids as text and executes none of it", async () => {
    // Written while `ui` serves the store: the dashboard reads beside a writer.
    const writer = openStore(storePath);
    hostile = writeSyntheticStep(writer, runId, 2, {
      strategy: `</script><script>window.__xss=4</script>`,
      bugLine: PAYLOAD,
      testName: `test_${PAYLOAD}`,
      text: `FAILED ${PAYLOAD}`,
      groupSize: 2,
    });
    writer.close();
    await page.goto(new URL(`/artifacts/${hostile.artifactId}`, url).href);
    expect(await page.locator("#bug-diff").textContent()).toContain(
      "<script>alert(1);window.__xss=1</script>",
    );
    expect(await page.locator("#validation").textContent()).toContain(
      `::test_<script>alert(1);window.__xss=1</script><img src=x onerror="alert(2);window.__xss=2">`,
    );
    await page.locator("#attempts details").first().click();
    await expectNothingRan();

    await page.goto(new URL(`/episodes/${encodeURIComponent(hostile.solverEpisodes[1]!)}`, url).href);
    expect(await page.locator("#trajectory").textContent()).toContain(`FAILED ${PAYLOAD}`);
    await expectNothingRan();

    await page.goto(new URL(`/runs/${runId}?verdict=valid`, url).href);
    await page.waitForFunction(() =>
      (window as unknown as { Chart?: { getChart(id: string): unknown } }).Chart?.getChart("plot-strategies"),
    );
    const labels = await page.evaluate(
      () =>
        (
          window as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }
        ).Chart.getChart("plot-strategies").data.labels,
    );
    expect(labels).toContain("</script><script>window.__xss=4</script>");
    await page.hover("#step-table");
    await expectNothingRan();
    expect(errors).toEqual([]);
  });
});
