import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postWithRetries, type Verdict } from "./http.js";

const retry = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 };

/** A real server on 127.0.0.1 answering each request with the next scripted status and body. */
async function scriptedServer(answers: { status: number; body: unknown }[]) {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    request.on("end", () => {
      bodies.push(text);
      const answer = answers[Math.min(bodies.length - 1, answers.length - 1)]!;
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/generate`;
  return { server, url, bodies };
}

describe("postWithRetries", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it("resends at once, with the body rendered again, when the judge asks for it", async () => {
    const scripted = await scriptedServer([
      { status: 400, body: { error: { message: "unknown field return_token_ids" } } },
      { status: 200, body: { ok: true } },
    ]);
    server = scripted.server;
    let withTokens = true;
    const retries: string[] = [];
    const value = await postWithRetries(
      scripted.url,
      () => JSON.stringify(withTokens ? { return_token_ids: true } : {}),
      { timeoutMs: 5_000, retry, onRetry: (details) => retries.push(details.problem) },
      (response): Verdict<string> => {
        expect(response.durationMs).toBeGreaterThanOrEqual(0);
        if (response.status === 400) {
          withTokens = false;
          return { kind: "resend" };
        }
        return { kind: "done", value: response.body };
      },
    );
    expect(JSON.parse(value)).toEqual({ ok: true });
    expect(scripted.bodies).toEqual(['{"return_token_ids":true}', "{}"]);
    expect(retries).toEqual([]);
  });

  it("retries a plain 5xx but hands a 5xx that names the request as invalid to the judge at once", async () => {
    const overloaded = await scriptedServer([
      { status: 503, body: { error: { message: "overloaded" } } },
      { status: 200, body: { ok: true } },
    ]);
    server = overloaded.server;
    const judged: number[] = [];
    const judge = (response: { status: number }): Verdict<number> => {
      judged.push(response.status);
      if (response.status >= 400) throw new Error(`rejected with ${response.status}`);
      return { kind: "done", value: response.status };
    };
    expect(await postWithRetries(overloaded.url, "{}", { timeoutMs: 5_000, retry }, judge)).toBe(200);
    expect(judged).toEqual([200]);
    server.close();

    const invalid = await scriptedServer([
      { status: 500, body: { detail: "1 validation error: field required" } },
    ]);
    server = invalid.server;
    judged.length = 0;
    await expect(postWithRetries(invalid.url, "{}", { timeoutMs: 5_000, retry }, judge)).rejects.toThrow(
      /rejected with 500/,
    );
    expect(judged).toEqual([500]);
    expect(invalid.bodies).toHaveLength(1);
  });

  it("tells a server that stopped answering a seeded request apart, naming the flags and --seeds off", async () => {
    // A server that answers, then goes away (as vLLM's CPU worker does on a chunked seeded prefill).
    const dying = await scriptedServer([{ status: 200, body: {} }]);
    const url = dying.url;
    await new Promise<void>((resolve) => dying.server.close(() => resolve()));
    const judge = (): Verdict<number> => ({ kind: "done", value: 1 });
    const seeded = postWithRetries(url, "{}", { timeoutMs: 5_000, retry, seeded: true }, judge);
    await expect(seeded).rejects.toThrow(/--no-enable-chunked-prefill .*--seeds off/);
    await expect(seeded).rejects.toThrow(/CPU Generator does not use offset/);
    const plain = postWithRetries(url, "{}", { timeoutMs: 5_000, retry }, judge);
    await expect(plain).rejects.toThrow(/\(is the server up\?\)$/);
  });

  it("tells the crash apart when the dying server still answers 500 with its engine dead", async () => {
    const dead = await scriptedServer([
      { status: 500, body: { error: { message: "EngineCore encountered an issue. See stack trace" } } },
    ]);
    server = dead.server;
    const judge = (): Verdict<number> => ({ kind: "done", value: 1 });
    await expect(
      postWithRetries(dead.url, "{}", { timeoutMs: 5_000, retry, seeded: true }, judge),
    ).rejects.toThrow(/--seeds off/);
  });
});
