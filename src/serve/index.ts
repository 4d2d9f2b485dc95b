// The HTTP service RL engines call: self-play and repair steps on demand, exactly once per request id.

export { type EvalBody, EvaluationJobs, type EvalView } from "./evaluations.js";
export type { RequestError } from "./request-error.js";
export * as schemas from "./schemas.js";
export { type RunningService, type ServeOptions, startService } from "./server.js";
export { createService, type PolicyChoice, type Service, type ServiceDeps } from "./service.js";
