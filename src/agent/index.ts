// The agent layer: the tool-calling loop, its tools and prompts, and the model-driven policy.
export {
  type CallFormat,
  type CallFormatName,
  callFormatNamed,
  hermesCallFormat,
  nativeCallFormat,
  textCallFormat,
} from "./call-format.js";
export {
  DEFAULT_LIMITS,
  type ExitReason,
  type LoopLimits,
  type LoopOptions,
  type LoopResult,
  type LoopStats,
  runAgentLoop,
  type TrajectoryStep,
  truncateObservation,
} from "./loop.js";
export { type AgentPolicyOptions, createAgentPolicy } from "./policy.js";
export { PROMPT_VERSION, proposerPrompt } from "./prompts.js";
export { createBashTool, DEFAULT_COMMAND_TIMEOUT_MS } from "./tools/bash.js";
export { createEditorTool } from "./tools/editor.js";
export { createProposerSubmitTool, createSolverSubmitTool } from "./tools/submit.js";
export type { Tool, ToolContext, ToolOutcome } from "./tools/tool.js";
