import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { createModelClient } from "./openai-client.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A web server (not a model server) that answers every path with an HTML 404 page, counting requests. */
async function htmlNotFoundServer(): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    request.resume();
    request.on("end", () => {
      response.writeHead(404, { "content-type": "text/html" });
      response.end(
        "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n",
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  close = () => new Promise((done) => server.close(() => done()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe("the capability probe against a URL that answers 404", () => {
  it("stops at once with the likely fix, naming the page by its title instead of printing it", async () => {
    const { url, requests } = await htmlNotFoundServer();
    // A base URL without /v1: the usual mistake.
    const client = createModelClient({ baseUrl: url, model: "m", retryBaseDelayMs: 5, retryMaxDelayMs: 20 });
    const error = await client.probe!().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    const message = (error as InputError).message;
    expect(message).toContain("HTTP 404");
    expect(message).toContain("is --base-url the /v1 root");
    expect(message).toContain('an HTML page titled "404 Not Found"');
    expect(message).not.toMatch(/<html|<body|\n/i);
    // The model list, then the one completion that found the 404: no tool-call or tool-result probes after it.
    expect(requests).toEqual(["GET /models", "POST /chat/completions"]);
  });
});
