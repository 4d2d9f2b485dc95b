// The page frame every dashboard page shares: head with the served stylesheets, navigation, footer.
import { type Html, html } from "../html.js";

export interface PageOptions {
  title: string;
  /** Breadcrumbs after "Runs", each with an optional link. */
  trail?: { label: string; href?: string }[];
  /** Scripts from /assets to load (deferred); inline scripts are never used (the CSP forbids them). */
  scripts?: string[];
  body: Html;
}

export function page(options: PageOptions): Html {
  const trail = options.trail ?? [];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · swe-selfplay</title>
<link rel="stylesheet" href="/assets/diff2html.min.css">
<link rel="stylesheet" href="/assets/dashboard.css">
${(options.scripts ?? []).map((name) => html`<script defer src="/assets/${name}"></script>`)}
</head>
<body>
<header><nav><a href="/" class="brand">swe-selfplay</a><a href="/evaluations" class="nav-right">Evaluations</a>${trail.map(
    (crumb) =>
      crumb.href ? html` › <a href="${crumb.href}">${crumb.label}</a>` : html` › <span>${crumb.label}</span>`,
  )}</nav></header>
<main>
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>
`;
}

export const formatNumber = (value: number | null | undefined, digits = 3): string =>
  value === null || value === undefined ? "–" : value.toFixed(digits);

export const formatMs = (value: number | null | undefined): string =>
  value === null || value === undefined
    ? "–"
    : value < 1000
      ? `${Math.round(value)} ms`
      : `${(value / 1000).toFixed(1)} s`;

/** Links keep ids as path segments; ids come from the store, so they are encoded like any text. */
export const runHref = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
export const artifactHref = (artifactId: string) => `/artifacts/${encodeURIComponent(artifactId)}`;
export const episodeHref = (episodeId: string) => `/episodes/${encodeURIComponent(episodeId)}`;

export function pager(options: {
  page: number;
  pageSize: number;
  total: number;
  href: (page: number) => string;
}): Html {
  const pages = Math.max(1, Math.ceil(options.total / options.pageSize));
  if (pages <= 1) return html`<p class="pager muted">${options.total} in all</p>`;
  const link = (target: number, label: string) =>
    target < 1 || target > pages || target === options.page
      ? html`<span class="muted">${label}</span>`
      : html`<a href="${options.href(target)}">${label}</a>`;
  return html`<p class="pager">${link(1, "« first")} ${link(options.page - 1, "‹ previous")}
    page ${options.page} of ${pages} (${options.total} in all)
    ${link(options.page + 1, "next ›")} ${link(pages, "last »")}</p>`;
}
