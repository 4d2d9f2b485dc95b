// An SGLang-shaped `/generate` on loopback in front of a real vLLM: each request's input_ids and
// sampling_params go to vLLM's `/v1/completions` as a token-id prompt, and the answer comes back in SGLang's
// shape (output_ids, meta_info.output_token_logprobs, finish_reason.type). A scripted reply (token ids the
// caller chose) can stand in for sampling, so template checks do not depend on what the model says.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { sendJson } from "./scripted-model-server.js";

export interface ScriptedTokens {
  tokenIds: number[];
  text: string;
}

export interface SglangFront {
  /** The root serving `/generate`. */
  rootUrl: string;
  /** input_ids of every request, in order. */
  readonly prompts: number[][];
  close(): Promise<void>;
}

export async function startSglangFront(
  vllmBaseUrl: string,
  model: string,
  scripted?: (index: number) => ScriptedTokens | undefined,
): Promise<SglangFront> {
  const prompts: number[][] = [];
  const server = createServer(async (incoming, response) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
      if (incoming.url !== "/generate") return sendJson(response, 404, { error: `no route ${incoming.url}` });
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const index = prompts.length;
      prompts.push(body.input_ids);
      const fixed = scripted?.(index);
      if (fixed)
        return sendJson(response, 200, {
          text: fixed.text,
          output_ids: fixed.tokenIds,
          meta_info: {
            id: `front-${index}`,
            finish_reason: { type: "stop" },
            prompt_tokens: body.input_ids.length,
            completion_tokens: fixed.tokenIds.length,
            output_token_logprobs: fixed.tokenIds.map((token) => [-0.5, token, null]),
          },
        });
      const params = body.sampling_params ?? {};
      const upstream = await fetch(`${vllmBaseUrl}/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model,
          prompt: body.input_ids,
          max_tokens: params.max_new_tokens,
          temperature: params.temperature,
          top_p: params.top_p,
          stop_token_ids: params.stop_token_ids,
          ...(params.sampling_seed === undefined ? {} : { seed: params.sampling_seed }),
          logprobs: 0,
          return_token_ids: true,
        }),
      });
      const reply = (await upstream.json()) as {
        choices?: {
          text: string;
          token_ids: number[];
          finish_reason: string;
          logprobs: { token_logprobs: number[] };
        }[];
        error?: unknown;
      };
      const choice = reply.choices?.[0];
      if (!upstream.ok || !choice) return sendJson(response, upstream.status, reply);
      sendJson(response, 200, {
        text: choice.text,
        output_ids: choice.token_ids,
        meta_info: {
          id: `front-${index}`,
          finish_reason: { type: choice.finish_reason },
          prompt_tokens: body.input_ids.length,
          completion_tokens: choice.token_ids.length,
          output_token_logprobs: choice.token_ids.map((token, position) => [
            choice.logprobs.token_logprobs[position],
            token,
            null,
          ]),
        },
      });
    } catch (error) {
      sendJson(response, 500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    rootUrl: `http://127.0.0.1:${port}`,
    prompts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
