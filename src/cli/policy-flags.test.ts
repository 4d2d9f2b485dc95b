import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startScriptedModelServer } from "../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { apiKeyFrom, createPolicy } from "../compose/index.js";
import type { OpenaiPolicyConfig } from "../config/schema.js";
import { InputError } from "../errors.js";
import { agentExtrasFrom, policyConfigFrom } from "./policy-flags.js";

const temp = makeTempDir("policy-flags-");
afterAll(() => temp.remove());

describe("policyConfigFrom", () => {
  it("defaults to the builtin policy", () => {
    expect(policyConfigFrom({}, {})).toEqual({ kind: "builtin" });
  });

  it("takes flags over environment variables over the config file", () => {
    const file = join(temp.path, "run.yaml");
    writeFileSync(
      file,
      [
        "policy:",
        "  kind: openai",
        "  baseUrl: http://file:1/v1",
        "  model: from-file",
        "  apiKeyEnv: MY_KEY",
        "  maxTurns: 20",
        "  callFormat: text",
      ].join("\n"),
    );
    const fromFile = policyConfigFrom({ config: file }, {});
    expect(fromFile).toMatchObject({
      kind: "openai",
      baseUrl: "http://file:1/v1",
      model: "from-file",
      maxTurns: 20,
      callFormat: "text",
      contextWindow: 32768,
    });
    const fromEnv = policyConfigFrom({ config: file }, { SWE_SELFPLAY_MODEL: "from-env" });
    expect(fromEnv).toMatchObject({ baseUrl: "http://file:1/v1", model: "from-env" });
    const fromFlags = policyConfigFrom(
      {
        config: file,
        model: "from-flag",
        baseUrl: "http://flag:2/v1",
        maxTurns: "7",
        contextTokens: "131072",
        callFormat: "native",
      },
      { SWE_SELFPLAY_MODEL: "from-env" },
    );
    expect(fromFlags).toMatchObject({
      baseUrl: "http://flag:2/v1",
      model: "from-flag",
      maxTurns: 7,
      contextWindow: 131072,
      callFormat: "native",
    });
    expect(agentExtrasFrom({})).toEqual({});
    expect(apiKeyFrom(fromFile, { MY_KEY: "k1", OPENAI_API_KEY: "k2" })).toBe("k1");
    expect(apiKeyFrom(fromFile, { SWE_SELFPLAY_API_KEY: "k0", MY_KEY: "k1" })).toBe("k0");
    expect(apiKeyFrom(fromFile, { OPENAI_API_KEY: "k2" })).toBe("k2");
  });

  it("selects demonstrations (builtin-demo) by flag or file, without a model, played by the agent loop", () => {
    expect(policyConfigFrom({ policy: "builtin-demo" }, {})).toEqual({ kind: "builtin-demo" });
    const file = join(temp.path, "demo.yaml");
    writeFileSync(file, "policy: { kind: builtin-demo, testRunBudget: 8 }\n");
    expect(policyConfigFrom({ config: file }, {})).toEqual({ kind: "builtin-demo", testRunBudget: 8 });
    expect(() => policyConfigFrom({ policy: "builtin-demo", model: "m" }, {})).toThrow(
      /--model is a model setting, but --policy builtin-demo plays without a model/,
    );
    expect(() => policyConfigFrom({ policy: "demo" }, {})).toThrow(
      /--policy expects builtin, builtin-demo, openai, got "demo"/,
    );
    const policy = createPolicy({ kind: "builtin-demo" });
    expect(policy.info).toMatchObject({ kind: "builtin-demo", name: "builtin-demo" });
    expect(policy.probe).toBeUndefined();
  });

  it("says what is missing for the openai policy, and rejects unknown values", () => {
    expect(() => policyConfigFrom({ policy: "openai" }, {})).toThrow(/--base-url and --model/);
    expect(() => policyConfigFrom({ policy: "gpt" }, {})).toThrow(InputError);
    expect(() => agentExtrasFrom({ callFormat: "xml" })).toThrow(/native, hermes, json or text/);
    expect(() =>
      policyConfigFrom({ policy: "openai", baseUrl: "http://x/v1", model: "m", inference: "tgi" }, {}),
    ).toThrow(/--inference expects openai-chat, vllm, sglang, got "tgi"/);
    expect(() =>
      policyConfigFrom({ policy: "openai", baseUrl: "http://x/v1", model: "m", maxTurns: "0" }, {}),
    ).toThrow(/--max-turns/);
  });

  it("selects the inference protocol from the config file, a flag winning", () => {
    const file = join(temp.path, "tito.yaml");
    writeFileSync(
      file,
      [
        "policy:",
        "  kind: openai",
        "  baseUrl: http://127.0.0.1:9/v1",
        "  model: qwen",
        "  callFormat: hermes",
        "  inference:",
        "    kind: vllm",
        "    tokenizerUrl: http://127.0.0.1:9",
      ].join("\n"),
    );
    expect(policyConfigFrom({ config: file }, {})).toMatchObject({
      callFormat: "hermes",
      inference: { kind: "vllm", tokenizerUrl: "http://127.0.0.1:9" },
    });
    expect(policyConfigFrom({ config: file, inference: "sglang" }, {})).toMatchObject({
      inference: { kind: "sglang", tokenizerUrl: "http://127.0.0.1:9" },
    });
    const defaults = policyConfigFrom({ policy: "openai", baseUrl: "http://x/v1", model: "m" }, {});
    expect(defaults).toMatchObject({ inference: { kind: "openai-chat" }, callFormat: "native" });
  });

  it("builds an openai policy from environment variables", () => {
    const config = policyConfigFrom(
      { policy: "openai" },
      { SWE_SELFPLAY_BASE_URL: "http://127.0.0.1:9/v1", SWE_SELFPLAY_MODEL: "qwen" },
    );
    const policy = createPolicy(config, { callFormat: "text" }, {});
    expect(policy.info).toMatchObject({ kind: "openai", name: "qwen" });
  });

  it("takes every sampling setting and tool_choice from flags over the file, and hands them to the client", async () => {
    const file = join(temp.path, "sampling.yaml");
    writeFileSync(
      file,
      [
        "policy:",
        "  kind: openai",
        "  baseUrl: http://file:1/v1",
        "  model: m",
        "  toolChoice: required",
        "  sampling: { temperature: 0.3, topK: 40, extraBody: { repetition_penalty: 1.05 } }",
      ].join("\n"),
    );
    expect(policyConfigFrom({ config: file }, {})).toMatchObject({
      toolChoice: "required",
      sampling: {
        temperature: 0.3,
        topP: 0.95,
        topK: 40,
        maxTokens: 4096,
        extraBody: { repetition_penalty: 1.05 },
      },
    });
    const config = policyConfigFrom(
      {
        config: file,
        maxTokens: "512",
        temperature: "0.7",
        topP: "0.9",
        topK: "20",
        minP: "0.05",
        extraBody: '{"chat_template_kwargs":{"enable_thinking":false}}',
        seeds: "off",
        toolChoice: "omit",
      },
      {},
    );
    expect(config).toMatchObject({
      toolChoice: "omit",
      sampling: {
        seeds: false,
        maxTokens: 512,
        temperature: 0.7,
        topP: 0.9,
        topK: 20,
        minP: 0.05,
        extraBody: { chat_template_kwargs: { enable_thinking: false } },
      },
    });
    const server = await startScriptedModelServer([{ reply: { content: "ok" } }]);
    try {
      const policy = createPolicy({ ...(config as OpenaiPolicyConfig), baseUrl: server.baseUrl }, {}, {});
      expect((await policy.probe!()).tokenIds.supported).toBe(true);
      expect(server.probes[0]).toMatchObject({
        temperature: 0.7,
        top_p: 0.9,
        top_k: 20,
        min_p: 0.05,
        chat_template_kwargs: { enable_thinking: false },
      });
    } finally {
      await server.close();
    }
  });

  it("selects the model policy when a model is named, by flag or environment, and never ignores a model flag", () => {
    const server = { baseUrl: "http://127.0.0.1:9/v1", model: "qwen" };
    expect(policyConfigFrom(server, {})).toMatchObject({ kind: "openai", ...server });
    expect(
      policyConfigFrom({}, { SWE_SELFPLAY_BASE_URL: server.baseUrl, SWE_SELFPLAY_MODEL: "qwen" }),
    ).toMatchObject({ kind: "openai", ...server });
    // A model flag alone requires the model policy, which then needs its server.
    expect(() => policyConfigFrom({ temperature: "0.5" }, {})).toThrow(/--base-url and --model/);
    expect(() => policyConfigFrom({ model: "qwen" }, {})).toThrow(/--base-url and --model/);
    // An explicit builtin with model flags is a conflict, refused on one line with the fix.
    const conflict = () => policyConfigFrom({ policy: "builtin", ...server }, {});
    expect(conflict).toThrow(
      /^--base-url, --model are model settings, but --policy builtin plays without a model: pass --policy openai/,
    );
    expect(() => policyConfigFrom({ policy: "builtin", ...server }, {})).toThrow(InputError);
    const file = join(temp.path, "builtin.yaml");
    writeFileSync(file, "policy: { kind: builtin }\n");
    expect(() => policyConfigFrom({ config: file, maxTurns: "3" }, {})).toThrow(
      /--max-turns is a model setting, but the config file's policy.kind: builtin plays without a model/,
    );
    // Environment variables do not overrule an explicit choice of the builtin policy.
    expect(policyConfigFrom({ policy: "builtin" }, { SWE_SELFPLAY_BASE_URL: server.baseUrl })).toEqual({
      kind: "builtin",
    });
    // A file without a policy section leaves the choice to the flags.
    const plain = join(temp.path, "plain.yaml");
    writeFileSync(plain, "groupSize: 2\n");
    expect(policyConfigFrom({ config: plain, ...server }, {})).toMatchObject({ kind: "openai" });
    expect(policyConfigFrom({ config: plain }, {})).toEqual({ kind: "builtin" });
  });

  it("checks model flags' values whatever the policy", () => {
    expect(() => policyConfigFrom({ temperature: "hot" }, {})).toThrow(/--temperature expects a number/);
    expect(() => policyConfigFrom({ policy: "builtin", seeds: "maybe" }, {})).toThrow(
      /--seeds expects on or off/,
    );
    expect(() => policyConfigFrom({ callFormat: "xml" }, {})).toThrow(/--call-format expects/);
  });

  it("rejects bad sampling flags and names them", () => {
    const base = { policy: "openai", baseUrl: "http://x/v1", model: "m" };
    expect(() => policyConfigFrom({ ...base, temperature: "hot" }, {})).toThrow(
      /--temperature expects a number/,
    );
    expect(() => policyConfigFrom({ ...base, topP: "1.5" }, {})).toThrow(/topP/);
    expect(() => policyConfigFrom({ ...base, extraBody: "[1]" }, {})).toThrow(
      /--extra-body expects a JSON object/,
    );
    expect(() => policyConfigFrom({ ...base, toolChoice: "always" }, {})).toThrow(
      /--tool-choice expects auto, required, none or omit, got "always"/,
    );
    expect(() => policyConfigFrom({ ...base, seeds: "maybe" }, {})).toThrow(/--seeds expects on or off/);
  });
});
