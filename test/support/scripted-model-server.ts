// A real HTTP server on loopback that speaks the OpenAI chat-completions protocol with scripted replies:
// tool calls, token ids and logprobs (vLLM, SGLang or llama.cpp shape), error statuses, hangs and dropped
// connections. Its tokenizer is one token per UTF-8 byte of a fixed chat template, so token-prefix checks
// are real. The client's capability probe is answered as the shape's server would, outside the script.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { PROBE_PROMPT } from "../../src/model/chat-probe.js";

export interface ScriptedToolCall {
  name: string;
  /** A string is sent verbatim (so malformed JSON can be scripted); an object is JSON-encoded. */
  arguments: string | Record<string, unknown>;
}

export type ScriptStep =
  | {
      reply: {
        content?: string | null;
        toolCalls?: ScriptedToolCall[];
        finishReason?: string;
        /**
         * llama.cpp shape: the model starts a message instead of a call, as llama-cpp-python's
         * chatml-function-calling lets it under `tool_choice: "auto"`; the server then answers only the text
         * `functions.NAME:` of the first call, and the call itself only when `tool_choice` names its tool.
         */
        viaMessage?: boolean;
      };
      /** Wait this long before sending anything, headers included (a slow prompt on a CPU server). */
      delayMs?: number;
    }
  | { error: { status: number; message: string; retryAfterSeconds?: number } }
  | { hang: true }
  | { drop: true };

export interface ReceivedRequest {
  index: number;
  // biome-ignore lint/suspicious/noExplicitAny: the request body is whatever the client sent.
  body: any;
  authorization: string | undefined;
  /** The prompt as this server's template renders it, and its token ids. */
  promptText: string;
  promptTokenIds: number[];
}

export type Script = readonly ScriptStep[] | ((request: ReceivedRequest) => ScriptStep | Promise<ScriptStep>);

export interface ScriptedServerOptions {
  /** Prompt + max_tokens beyond this answers HTTP 400 with a vLLM-style context-length message. */
  maxContextTokens?: number;
  /**
   * Where prompt_token_ids go: top level (vLLM) or on the choice (SGLang). Default vLLM. `llama.cpp` answers as
   * llama-cpp-python's server does: no token ids at all, logprobs as {token, logprob, bytes} only when
   * `top_logprobs` is sent, HTTP 500 for an assistant message with `content: null`, the tools left out of
   * the prompt (so no tool calls) unless `tool_choice` is sent, and `role: "tool"` messages left out of the
   * prompt always (its chatml templates have no branch for them).
   */
  shape?: "vllm" | "sglang" | "llama.cpp";
  /** Refuse `return_token_ids` with HTTP 400, as a strict hosted API would. */
  rejectTokenIdFields?: boolean;
  /** Render the system message differently from this request index on, which breaks the token prefix. */
  changeTemplateFromRequest?: number;
  /** Keep every request in `requests` [true]; benchmarks turn it off so the server's memory stays flat. */
  keepRequests?: boolean;
}

export interface ScriptedModelServer {
  /** Base URL including `/v1`. */
  baseUrl: string;
  readonly requests: ReceivedRequest[];
  /** Capability-probe requests (answered outside the script), bodies as received. */
  // biome-ignore lint/suspicious/noExplicitAny: the request body is whatever the client sent.
  readonly probes: any[];
  close(): Promise<void>;
}

const encoder = new TextEncoder();

export function tokenize(text: string): number[] {
  return Array.from(encoder.encode(text));
}

/** Deterministic logprob of a token, always negative. */
export function tokenLogprob(token: number): number {
  return -((token % 13) + 1) / 20;
}

// biome-ignore lint/suspicious/noExplicitAny: wire messages are untyped JSON.
function renderAssistantBody(message: any): string {
  let body = typeof message.content === "string" ? message.content : "";
  for (const call of message.tool_calls ?? [])
    body += `<call name="${call.function.name}">${call.function.arguments}</call>`;
  return body;
}

// biome-ignore lint/suspicious/noExplicitAny: wire messages are untyped JSON.
export function renderPrompt(body: any, templateVersion = 1, llamaCpp = false): string {
  let text = "";
  const toolsShown = !llamaCpp || (body.tool_choice !== undefined && body.tool_choice !== "none");
  if (Array.isArray(body.tools) && body.tools.length > 0 && toolsShown)
    text += `<|tools|>\n${JSON.stringify(body.tools)}<|end|>\n`;
  for (const message of body.messages ?? []) {
    if (llamaCpp && message.role === "tool") continue;
    const role = message.role === "system" && templateVersion > 1 ? "system v2" : message.role;
    const content =
      message.role === "assistant" ? renderAssistantBody(message) : String(message.content ?? "");
    text += `<|${role}|>\n${content}<|end|>\n`;
  }
  return `${text}<|assistant|>\n`;
}

export async function startScriptedModelServer(
  script: Script,
  options: ScriptedServerOptions = {},
): Promise<ScriptedModelServer> {
  const requests: ReceivedRequest[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are untyped JSON.
  const probes: any[] = [];
  const llama = options.shape === "llama.cpp";
  let received = 0;
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  async function stepFor(request: ReceivedRequest): Promise<ScriptStep> {
    if (typeof script === "function") return script(request);
    const step = (script as readonly ScriptStep[])[request.index];
    return step ?? { error: { status: 500, message: `script has no step ${request.index}` } };
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    if (incoming.method === "GET" && incoming.url?.endsWith("/v1/models")) {
      sendJson(response, 200, { object: "list", data: [{ id: "scripted", object: "model" }] });
      return;
    }
    if (incoming.method !== "POST" || !incoming.url?.endsWith("/v1/chat/completions")) {
      sendJson(response, 404, { error: { message: `no route ${incoming.method} ${incoming.url}` } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (llama && body.messages?.some((message: { content?: unknown }) => message.content === null)) {
      // llama-cpp-python validates messages with pydantic and answers 500 with every failed union member.
      sendJson(response, 500, {
        error: {
          message:
            "7 validation errors for CreateChatCompletionRequest\nmessages.1.typed-dict.content\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]\nmessages.1.ChatCompletionRequestUserMessage.role\n  Input should be 'user'",
          type: "internal_server_error",
        },
      });
      return;
    }
    const isProbe = body.messages?.[0]?.content === PROBE_PROMPT && Number(body.max_tokens) <= 32;
    if (isProbe) probes.push(body);
    const templateVersion =
      options.changeTemplateFromRequest !== undefined && requests.length >= options.changeTemplateFromRequest
        ? 2
        : 1;
    const promptText = renderPrompt(body, templateVersion, llama);
    const request: ReceivedRequest = {
      index: isProbe ? -1 : received++,
      body,
      authorization: incoming.headers.authorization,
      promptText,
      promptTokenIds: tokenize(promptText),
    };
    if (options.keepRequests !== false && !isProbe) requests.push(request);
    if (options.rejectTokenIdFields && body.return_token_ids !== undefined) {
      sendJson(response, 400, {
        error: { message: "Unrecognized request argument supplied: return_token_ids" },
      });
      return;
    }
    const requested = request.promptTokenIds.length + (Number(body.max_tokens) || 0);
    if (options.maxContextTokens !== undefined && requested > options.maxContextTokens) {
      sendJson(response, 400, {
        object: "error",
        message:
          `This model's maximum context length is ${options.maxContextTokens} tokens. However, you requested ` +
          `${requested} tokens (${request.promptTokenIds.length} in the messages, ${Number(body.max_tokens) || 0} in the completion).`,
        type: "BadRequestError",
        code: 400,
      });
      return;
    }
    const forced = body.tool_choice?.function?.name;
    const step: ScriptStep = isProbe
      ? {
          reply: forced ? { content: null, toolCalls: [{ name: forced, arguments: {} }] } : { content: "OK" },
        }
      : await stepFor(request);
    if ("hang" in step) {
      hanging.add(response);
      return;
    }
    if ("drop" in step) {
      incoming.socket.destroy();
      return;
    }
    if ("error" in step) {
      if (step.error.retryAfterSeconds !== undefined)
        response.setHeader("retry-after", String(step.error.retryAfterSeconds));
      sendJson(response, step.error.status, {
        error: { message: step.error.message, code: step.error.status },
      });
      return;
    }
    if (step.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    const reply = llama ? llamaReply(step.reply, body.tool_choice) : step.reply;
    // Without tool_choice llama.cpp never showed the model the tools, so it cannot call them.
    const toolsSeen = !llama || (body.tool_choice !== undefined && body.tool_choice !== "none");
    const toolCalls = (toolsSeen ? (reply.toolCalls ?? []) : []).map((call, index) => ({
      id: `call_${request.index}_${index}`,
      type: "function",
      function: {
        name: call.name,
        arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const message = { role: "assistant", content: reply.content ?? null, tool_calls: toolCalls };
    const completionTokenIds = tokenize(`${renderAssistantBody(message)}<|end|>\n`);
    const wantIds = body.return_token_ids === true && !llama;
    const wantLogprobs = body.logprobs === true && (!llama || Number(body.top_logprobs) > 0);
    const choice: Record<string, unknown> = {
      index: 0,
      message,
      finish_reason: reply.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
      logprobs: wantLogprobs
        ? {
            content: completionTokenIds.map((token) =>
              llama
                ? {
                    token: String.fromCharCode(token),
                    logprob: tokenLogprob(token),
                    bytes: [token],
                    top_logprobs: [],
                  }
                : { token: `token_id:${token}`, logprob: tokenLogprob(token), top_logprobs: [] },
            ),
          }
        : null,
    };
    if (wantIds) choice.token_ids = completionTokenIds;
    const payload: Record<string, unknown> = {
      id: `chatcmpl-${request.index}`,
      object: "chat.completion",
      created: 0,
      model: body.model,
      choices: [choice],
      usage: {
        prompt_tokens: request.promptTokenIds.length,
        completion_tokens: completionTokenIds.length,
        total_tokens: request.promptTokenIds.length + completionTokenIds.length,
      },
    };
    if (wantIds && options.shape === "sglang") choice.prompt_token_ids = request.promptTokenIds;
    else if (wantIds) payload.prompt_token_ids = request.promptTokenIds;
    sendJson(response, 200, payload);
  }

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: { message: String(error) } });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    probes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type Reply = Extract<ScriptStep, { reply: unknown }>["reply"];

/** What llama-cpp-python's chatml-function-calling makes of a reply: a forced tool_choice gets that call only. */
function llamaReply(reply: Reply, toolChoice: unknown): Reply {
  const forced = (toolChoice as { function?: { name?: unknown } } | undefined)?.function?.name;
  if (typeof forced === "string")
    return { content: null, toolCalls: (reply.toolCalls ?? []).filter((call) => call.name === forced) };
  if (reply.viaMessage) return { content: `functions.${reply.toolCalls?.[0]?.name ?? ""}:` };
  return reply;
}

export function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
