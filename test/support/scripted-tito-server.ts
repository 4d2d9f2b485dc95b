// A real HTTP server on loopback that speaks the token-in/token-out protocols with scripted replies: vLLM's
// `/tokenize`, `/detokenize` and `/v1/completions` (token-id prompts), and SGLang's `/generate`. Its tokenizer
// is one token per UTF-8 byte plus one special end-of-turn token, and its chat template is a small fixed one,
// so every token check is real. Steps can fail the way real servers do: errors, bodies cut short, replies
// without token ids, headers sent late, dropped connections, and a restart on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { sendJson } from "./scripted-model-server.js";

/** The special token that closes every turn, rendered as `<|end|>`. */
export const END_OF_TURN = 1000;
const END_TEXT = "<|end|>";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type TitoStep =
  | { reply: string; finishReason?: "stop" | "length" }
  | { error: { status: number; message: string } }
  | { truncated: true }
  | { withoutTokenIds: true }
  | { delayHeadersMs: number; reply: string }
  | { drop: true };

export interface TitoRequest {
  index: number;
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: the request body is whatever the client sent.
  body: any;
  promptTokenIds: number[];
}

export interface ScriptedTitoServer {
  /** vLLM base including `/v1`. */
  baseUrl: string;
  /** The root: `/tokenize`, `/detokenize`, `/generate`. */
  rootUrl: string;
  /** Generation requests (`/v1/completions` and `/generate`) in order. */
  readonly requests: TitoRequest[];
  /** Stops listening for `downMs`, then listens on the same port again. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Bytes of the text; `<|end|>` becomes the special token. */
export function encodeText(text: string): number[] {
  const tokens: number[] = [];
  text.split(END_TEXT).forEach((piece, index) => {
    if (index > 0) tokens.push(END_OF_TURN);
    tokens.push(...encoder.encode(piece));
  });
  return tokens;
}

export function decodeTokens(tokens: readonly number[]): string {
  let text = "";
  let bytes: number[] = [];
  for (const token of tokens) {
    if (token === END_OF_TURN) {
      text += decoder.decode(new Uint8Array(bytes)) + END_TEXT;
      bytes = [];
    } else bytes.push(token);
  }
  return text + decoder.decode(new Uint8Array(bytes));
}

/** Deterministic logprob of a sampled token at a position, always negative. */
export function sampledLogprob(token: number, position: number): number {
  return -(((token + position) % 17) + 1) / 25;
}

export function renderChat(
  messages: { role?: unknown; content?: unknown }[],
  tools: unknown[] | undefined,
  addGenerationPrompt: boolean,
): string {
  let text = tools && tools.length > 0 ? `<|tools|>\n${JSON.stringify(tools)}${END_TEXT}\n` : "";
  for (const message of messages) {
    const role = message.role === "tool" ? "tool_response" : message.role;
    text += `<|${role}|>\n${String(message.content ?? "")}${END_TEXT}\n`;
  }
  return addGenerationPrompt ? `${text}<|assistant|>\n` : text;
}

export async function startScriptedTitoServer(
  script: (request: TitoRequest) => TitoStep,
  options: { maxModelLength?: number } = {},
): Promise<ScriptedTitoServer> {
  const requests: TitoRequest[] = [];
  const sockets = new Set<Socket>();
  const maxModelLength = options.maxModelLength ?? 100_000;

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const path = incoming.url ?? "";
    if (path === "/tokenize") {
      const tokens = Array.isArray(body.messages)
        ? encodeText(renderChat(body.messages, body.tools, body.add_generation_prompt === true))
        : encodeText(String(body.prompt));
      return sendJson(response, 200, { tokens, count: tokens.length, max_model_len: maxModelLength });
    }
    if (path === "/detokenize") return sendJson(response, 200, { prompt: decodeTokens(body.tokens) });
    const sglang = path === "/generate";
    if (!sglang && path !== "/v1/completions")
      return sendJson(response, 404, { error: { message: `no route ${path}` } });
    const promptTokenIds: number[] = sglang ? body.input_ids : body.prompt;
    const request: TitoRequest = { index: requests.length, path, body, promptTokenIds };
    requests.push(request);
    const maxTokens = sglang ? body.sampling_params.max_new_tokens : body.max_tokens;
    if (promptTokenIds.length + maxTokens > maxModelLength)
      return sendJson(response, 400, {
        object: "error",
        message: `This model's maximum context length is ${maxModelLength} tokens. However, you requested ${promptTokenIds.length + maxTokens} tokens.`,
      });
    const step = script(request);
    if ("drop" in step) return void incoming.socket.destroy();
    if ("error" in step)
      return sendJson(response, step.error.status, { error: { message: step.error.message } });
    if ("delayHeadersMs" in step) await new Promise((resolve) => setTimeout(resolve, step.delayHeadersMs));
    const text = "reply" in step ? step.reply : "partial reply";
    const finishReason = "finishReason" in step && step.finishReason ? step.finishReason : "stop";
    const sampled = encodeText(text).slice(0, maxTokens);
    if (finishReason === "stop" && sampled.length < maxTokens) sampled.push(END_OF_TURN);
    const logprobs = sampled.map((token, index) => sampledLogprob(token, promptTokenIds.length + index));
    const withIds = !("withoutTokenIds" in step);
    const payload = sglang
      ? {
          text,
          ...(withIds ? { output_ids: sampled } : {}),
          meta_info: {
            id: `gen-${request.index}`,
            finish_reason: { type: finishReason },
            prompt_tokens: promptTokenIds.length,
            completion_tokens: sampled.length,
            ...(withIds
              ? { output_token_logprobs: sampled.map((token, index) => [logprobs[index], token, null]) }
              : {}),
          },
        }
      : {
          id: `cmpl-${request.index}`,
          object: "text_completion",
          model: body.model,
          choices: [
            {
              index: 0,
              text,
              finish_reason: finishReason,
              logprobs: { token_logprobs: logprobs, tokens: sampled.map((token) => `token_id:${token}`) },
              ...(withIds ? { token_ids: sampled, prompt_token_ids: promptTokenIds } : {}),
            },
          ],
          usage: { prompt_tokens: promptTokenIds.length, completion_tokens: sampled.length },
        };
    const serialized = JSON.stringify(payload);
    if ("truncated" in step) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(serialized.slice(0, Math.floor(serialized.length / 2)));
      return;
    }
    sendJson(response, 200, payload);
  }

  let server: Server;
  let port = 0;
  async function listen(): Promise<void> {
    server = createServer((incoming, response) => {
      handle(incoming, response).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { error: { message: String(error) } });
      });
    });
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen();
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    rootUrl: `http://127.0.0.1:${port}`,
    requests,
    async restart(downMs) {
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await listen();
    },
    close: stop,
  };
}
