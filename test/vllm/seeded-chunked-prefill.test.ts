// vLLM's CPU build started the usual way (chunked prefill on, 2,048 batched tokens by default) dies on the
// first seeded request whose prefill is chunked ("RuntimeError: CPU Generator does not use offset" in its
// worker). The client must say so, and what to do, instead of only "is the server up?".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTitoClient } from "../../src/model/tito/tito-client.js";
import { findVllm, startVllm, type VllmServer, vllmRequired } from "../support/vllm-server.js";

const installation = findVllm();
if (typeof installation === "string") {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${installation}`);
  process.stderr.write(`skipped, why: ${installation} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

let vllm: VllmServer | undefined;

describe.skipIf(typeof installation === "string")(
  "a seeded request on vLLM's CPU build with its defaults",
  () => {
    beforeAll(async () => {
      if (typeof installation === "string") return;
      // Its own server, started without --no-enable-chunked-prefill: this test kills it.
      vllm = await startVllm(installation, { fresh: true });
    }, 3_000_000);

    afterAll(async () => {
      await vllm?.stop();
    }, 60_000);

    it("ends in an error that names the crash and the fix (server flags or --seeds off)", async () => {
      const server = vllm!;
      const client = createTitoClient({
        engine: "vllm",
        baseUrl: server.baseUrl,
        model: server.model,
        maxTokens: 1,
        maxRetries: 2,
        retryBaseDelayMs: 200,
        requestTimeoutMs: 600_000,
      }).startEpisode!();
      // About 2,600 prompt tokens: more than one 2,048-token prefill chunk.
      const long = "alpha beta gamma delta ".repeat(650);
      const answer = client.complete({ messages: [{ role: "user", content: long }], seed: 7, maxTokens: 1 });
      await expect(answer).rejects.toThrow(/stopped answering a seeded request/);
      await expect(answer).rejects.toThrow(/--no-enable-chunked-prefill .*--seeds off/);
    }, 900_000);
  },
);
