// Ports: types shared across layers, with no imports from any adapter.
export * from "./artifact.js";
export * from "./demonstrator.js";
export * from "./model.js";
export * from "./policy.js";
export * from "./rollout.js";
export * from "./sandbox.js";
export * from "./store.js";
export * from "./validation.js";
