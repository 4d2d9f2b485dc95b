// Rollout records (DESIGN §8), pure: samples assembled from an episode's token traces, and their invariants.
export { RolloutAccumulator, rolloutInvariantViolations } from "./rollout-record.js";
