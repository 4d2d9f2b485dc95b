// Live progress of a run as server-sent events: polled from the store, sent only when it changed, a
// keep-alive comment when idle, and an end event once the run is no longer running.
import type { ServerResponse } from "node:http";
import type { RunProgress } from "./queries/runs.js";
import { SECURITY_HEADERS } from "./security.js";

/** Idle connections get a comment this often, so that proxies keep them open. */
const KEEP_ALIVE_MS = 15_000;

/**
 * Streams `progress()` on `response` every `pollMs` until the run ends (or is gone) or the client leaves
 * (`onClose`). Returns at once; the stream lives on its timer.
 */
export function streamProgress(options: {
  response: ServerResponse;
  progress: () => RunProgress | null;
  pollMs: number;
  onClose: (listener: () => void) => void;
}): void {
  const { response, progress: read, pollMs } = options;
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
  });
  let last = "";
  let idle = 0;
  const send = () => {
    const progress = read();
    if (!progress) return finish();
    const data = JSON.stringify(progress);
    if (data !== last) {
      last = data;
      idle = 0;
      response.write(`event: progress\ndata: ${data}\n\n`);
    } else if (++idle * pollMs >= KEEP_ALIVE_MS) {
      idle = 0;
      response.write(": keep-alive\n\n");
    }
    // A run that is no longer running changes no more: say so and let the browser stop listening.
    if (progress.status !== "running") finish();
  };
  const timer = setInterval(send, pollMs);
  const finish = () => {
    clearInterval(timer);
    if (!response.writableEnded) response.end("event: end\ndata: {}\n\n");
  };
  options.onClose(() => clearInterval(timer));
  send();
}
