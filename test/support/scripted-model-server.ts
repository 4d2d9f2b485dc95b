// A real HTTP server on loopback that speaks the OpenAI chat-completions protocol with scripted replies:
// tool calls, token ids and logprobs (vLLM or SGLang shape), error statuses, hangs and dropped connections.
// Its tokenizer is one token per UTF-8 byte of a fixed chat template, so token-prefix checks are real.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ScriptedToolCall {
  name: string;
  /** A string is sent verbatim (so malformed JSON can be scripted); an object is JSON-encoded. */
  arguments: string | Record<string, unknown>;
}

export type ScriptStep =
  | { reply: { content?: string | null; toolCalls?: ScriptedToolCall[]; finishReason?: string } }
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
  /** Where prompt_token_ids go: top level (vLLM) or on the choice (SGLang). Default vLLM. */
  shape?: "vllm" | "sglang";
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
export function renderPrompt(body: any, templateVersion = 1): string {
  let text = "";
  if (Array.isArray(body.tools) && body.tools.length > 0)
    text += `<|tools|>\n${JSON.stringify(body.tools)}<|end|>\n`;
  for (const message of body.messages ?? []) {
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
    if (incoming.method !== "POST" || !incoming.url?.endsWith("/v1/chat/completions")) {
      sendJson(response, 404, { error: { message: `no route ${incoming.method} ${incoming.url}` } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const templateVersion =
      options.changeTemplateFromRequest !== undefined && requests.length >= options.changeTemplateFromRequest
        ? 2
        : 1;
    const promptText = renderPrompt(body, templateVersion);
    const request: ReceivedRequest = {
      index: received++,
      body,
      authorization: incoming.headers.authorization,
      promptText,
      promptTokenIds: tokenize(promptText),
    };
    if (options.keepRequests !== false) requests.push(request);
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
    const step = await stepFor(request);
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
    const toolCalls = (step.reply.toolCalls ?? []).map((call, index) => ({
      id: `call_${request.index}_${index}`,
      type: "function",
      function: {
        name: call.name,
        arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const message = { role: "assistant", content: step.reply.content ?? null, tool_calls: toolCalls };
    const completionTokenIds = tokenize(`${renderAssistantBody(message)}<|end|>\n`);
    const wantIds = body.return_token_ids === true;
    const choice: Record<string, unknown> = {
      index: 0,
      message,
      finish_reason: step.reply.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
      logprobs:
        body.logprobs === true
          ? {
              content: completionTokenIds.map((token) => ({
                token: `token_id:${token}`,
                logprob: tokenLogprob(token),
                top_logprobs: [],
              })),
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
