// `swe-selfplay propose`: one proposer episode on a repository or image; writes the artifact, its
// validation report and the episode to --out. Exit 0 when the artifact is valid, 1 when not.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { artifactId } from "../../artifact/index.js";
import { writeArtifactDir } from "../../artifact-io/index.js";
import { loadConfig } from "../../config/index.js";
import { InputError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { DIFFICULTIES, type Difficulty, STRATEGIES, type Strategy } from "../../ports/artifact.js";
import { type Environment, viewOf } from "../../ports/sandbox.js";
import type { Thresholds } from "../../ports/validation.js";
import { resolveThresholds } from "../../validation/thresholds.js";
import type { EnvironmentFlags, ProposeFlags } from "../definitions/propose.js";
import { episodeProgress, probeAndReport, timed } from "../episode-progress.js";
import { EXIT_NEGATIVE, EXIT_OK } from "../exit-codes.js";
import { integerFlag } from "../flags.js";
import { agentExtrasFrom, policyConfigFrom } from "../policy-flags.js";

/** The environment named by --repo or --image (exactly one), and a name for it. */
export function environmentFrom(flags: EnvironmentFlags): { environment: Environment; name: string } {
  if ((flags.repo === undefined) === (flags.image === undefined))
    throw new InputError("bad-flag", "give exactly one of --repo DIR or --image NAME");
  if (flags.repo !== undefined) {
    const path = resolve(flags.repo);
    return { environment: { kind: "dir", path }, name: basename(path) };
  }
  const image = flags.image!;
  return {
    environment: { kind: "image", image, ...(flags.workdir ? { workdir: flags.workdir } : {}) },
    name: image,
  };
}

// Kept for the commands that read it from here.
export { integerFlag } from "../flags.js";

export function thresholdsFrom(flags: { config?: string }): Thresholds {
  return resolveThresholds(flags.config ? loadConfig({ file: flags.config }).thresholds : {});
}

function difficultyFlag(value: string): Difficulty {
  const level = Number(value);
  if (!DIFFICULTIES.includes(level as Difficulty))
    throw new InputError(
      "bad-flag",
      `--difficulty expects one of ${DIFFICULTIES.join(", ")}, got "${value}"`,
    );
  return level as Difficulty;
}

export async function propose(flags: ProposeFlags): Promise<number> {
  const log = createLogger("propose");
  const { environment, name } = environmentFrom(flags);
  const strategy = flags.strategy as Strategy;
  if (!STRATEGIES.includes(strategy))
    throw new InputError(
      "bad-flag",
      `--strategy expects one of ${STRATEGIES.join(", ")}, got "${flags.strategy}"`,
    );
  const difficulty = flags.difficulty === undefined ? undefined : difficultyFlag(flags.difficulty);
  const seed = integerFlag(flags.seed, "--seed", 0);
  const thresholds = thresholdsFrom(flags);
  const out = resolve(flags.out);
  mkdirSync(out, { recursive: true });
  // The model policy appends each step to out/proposer-<episode>.jsonl, so a crash keeps the trajectory.
  const policyConfig = policyConfigFrom(flags);
  const extras = { ...agentExtrasFrom(flags), trajectoryDir: out };
  const { configuredValidator, createPolicy, openConfiguredSandboxes } = await import(
    "../../compose/index.js"
  );
  const policy = createPolicy(policyConfig, extras);
  // Before anything costs time: what the server can do (token ids, logprobs, native tool calls).
  await probeAndReport(policy, {
    callFormat: extras.callFormat ?? (policyConfig.kind === "openai" ? policyConfig.callFormat : undefined),
  });
  const sandboxes = openConfiguredSandboxes();
  try {
    const validator = configuredValidator({ sandboxes, thresholds });
    const sandbox = await sandboxes.create({ environment, label: "propose" });
    log.info("proposer episode started", { environment: name, strategy, seed, policy: policy.info.kind });
    let outcome: Awaited<ReturnType<typeof policy.propose>>;
    try {
      outcome = await policy.propose({
        sandbox: viewOf(sandbox),
        environmentName: name,
        strategy,
        ...(difficulty === undefined ? {} : { difficulty }),
        seed,
        thresholds: validator.thresholds,
        validate: (artifact) =>
          timed(
            "validating the submitted artifact",
            () => validator.validate(environment, artifact),
            (report) =>
              `${report.verdict}${report.failedCheck ? ` (${report.failedCheck})` : ""}, ${report.testRuns.length} test runs`,
          ),
        onStep: episodeProgress("proposer"),
      });
    } finally {
      await sandbox.destroy();
    }
    writeFileSync(join(out, "episode.json"), `${JSON.stringify(outcome.episode, null, 2)}\n`);
    if (outcome.status === "failed") {
      const result = { status: "failed", reason: outcome.reason, episode: summary(outcome.episode) };
      process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `no artifact: ${outcome.reason}\n`);
      return EXIT_NEGATIVE;
    }
    const report = await validator.validate(environment, outcome.artifact);
    await writeArtifactDir(out, outcome.artifact);
    writeFileSync(join(out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
    const id = artifactId(outcome.artifact);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ status: "submitted", artifactId: id, out, verdict: report.verdict, failedCheck: report.failedCheck, reason: report.reason, f2p: report.f2p, p2p: report.p2p.length, episode: summary(outcome.episode) })}\n`,
      );
    } else {
      process.stdout.write(
        `artifact ${id} written to ${out}\n` +
          (report.verdict === "valid"
            ? `valid: ${report.f2p.length} fail-to-pass, ${report.p2p.length} pass-to-pass tests\n`
            : `invalid: ${report.failedCheck}: ${report.reason}\n`),
      );
    }
    return report.verdict === "valid" ? EXIT_OK : EXIT_NEGATIVE;
  } finally {
    await sandboxes.close();
  }
}

export function summary(episode: {
  id: string;
  status: string;
  exitReason: string;
  stats: Record<string, number>;
}) {
  return { id: episode.id, status: episode.status, exitReason: episode.exitReason, stats: episode.stats };
}
