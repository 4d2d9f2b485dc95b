// Diffs as HTML through diff2html, which escapes every file name and line it renders.
import { createRequire } from "node:module";
import type * as Diff2Html from "diff2html";
import { type Html, html, trustedHtml } from "./html.js";

/** A rendered diff, or the raw text when it does not parse as one (an empty diff says so). */
export function renderDiff(diff: string | null): Html {
  if (!diff || diff.trim() === "") return html`<p class="muted">(empty diff)</p>`;
  // diff2html loads with the first diff rendered, not with every command that imports the dashboard.
  const { html: diffToHtml } = createRequire(import.meta.url)("diff2html") as typeof Diff2Html;
  const rendered = diffToHtml(diff, { drawFileList: false, matching: "none", outputFormat: "line-by-line" });
  if (!rendered.includes("d2h-file-wrapper")) return html`<pre class="text">${diff}</pre>`;
  return trustedHtml(rendered);
}
