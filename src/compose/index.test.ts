import { describe, expect, it } from "vitest";
import { modelPolicyDefault, parseConfig, SERVICE_CALL_FORMATS } from "../config/index.js";
import { InputError } from "../errors.js";
import { servicePolicyConfig } from "./index.js";

const serviceConfig = parseConfig({
  policy: {
    kind: "openai",
    baseUrl: "http://config.invalid/v1",
    model: "configured",
    sampling: { temperature: 0.3, topK: 20 },
    maxTurns: 7,
  },
});

describe("servicePolicyConfig", () => {
  it("layers a request's inference and sampling over the service's configuration", () => {
    const config = servicePolicyConfig(serviceConfig, {
      inference: { kind: "vllm", base_url: "http://engine.invalid/v1", model: "policy-7" },
      role: "solver",
      policyVersion: "v7",
      sampling: { temperature: 0.9 },
    });
    expect(config).toMatchObject({
      kind: "openai",
      baseUrl: "http://engine.invalid/v1", // the request's server and model
      model: "policy-7",
      maxTurns: 7, // the configuration's agent settings
      inference: { kind: "vllm" },
      callFormat: SERVICE_CALL_FORMATS.vllm, // the default for the request's inference kind
      sampling: {
        temperature: 0.9, // the request's sampling over the configuration's
        topK: 20, // the configuration's, where the request says nothing
        topP: modelPolicyDefault("sampling.topP"), // the schema's
      },
    });
  });

  it("takes the request's call format, and plays the built-in policy when the request names it", () => {
    const chat = servicePolicyConfig(serviceConfig, {
      inference: {
        kind: "openai-chat",
        base_url: "http://engine.invalid/v1",
        model: "m",
        tool_call_format: "json",
      },
      role: "proposer",
      policyVersion: "v1",
    });
    expect(chat).toMatchObject({ callFormat: "json", inference: { kind: "openai-chat" } });
    expect(
      servicePolicyConfig(serviceConfig, {
        inference: { kind: "builtin" },
        role: "solver",
        policyVersion: "v1",
      }),
    ).toEqual({ kind: "builtin" });
  });

  it("refuses invalid settings with the role named", () => {
    expect(() =>
      servicePolicyConfig(serviceConfig, {
        inference: { kind: "vllm", base_url: "http://engine.invalid/v1", model: "m" },
        role: "solver",
        policyVersion: "v1",
        sampling: { temperature: 5 },
      }),
    ).toThrow(InputError);
  });
});
