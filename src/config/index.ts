// Run configuration: schema (with defaults and docs) and loading from YAML plus command-line overrides.
export { configDefault, modelPolicyDefault } from "./defaults.js";
export { type ConfigLayer, layerFromPaths, mergeLayers, replacing } from "./layers.js";
export { formatIssues, type LoadConfigOptions, loadConfig, parseConfig, parseDuration } from "./load.js";
export {
  CALL_FORMATS,
  type CallFormatOption,
  callFormatSchema,
  INFERENCE_KINDS,
  type InferenceKind,
  inferenceKindSchema,
  POLICY_KINDS,
  type PolicyKind,
  SERVICE_CALL_FORMATS,
  searchesBuiltin,
} from "./policy-kinds.js";
export {
  configSchema,
  DEFAULT_STORE_PATH,
  type DifficultySetting,
  type EnvironmentConfig,
  type PolicyConfig,
  type SelfPlayConfig,
  type SelfPlayConfigInput,
  type StrategyMix,
} from "./schema.js";
export { configuredWeights } from "./strategy-defaults.js";
