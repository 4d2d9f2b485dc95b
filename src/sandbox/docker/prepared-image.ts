// Once per environment image: a derived image that already holds the change-tracking repository and the
// baseline index of the workdir, so creating a sandbox costs no git work. Cached by image id, labelled.

import { createHash } from "node:crypto";
import type Docker from "dockerode";
import { InfrastructureError, InputError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { ChangeTracker } from "../change-tracking.js";
import { type SandboxUser, userSpec } from "./archive.js";
import { dockerContainerAccess } from "./container-access.js";
import { createContainerGitRunner, TRACKING_GIT_DIR, TRACKING_INDEX } from "./container-git.js";
import { execInContainer } from "./exec.js";
import { currentOwner, formatOwner, LABELS } from "./ownership.js";

const log = createLogger("sandbox.docker");

/** Bump when what a prepared image holds changes, so old ones are not reused. */
const PREPARATION_VERSION = "1";
export const PREPARED_REPOSITORY = "swe-selfplay/prepared";
export const PREPARED_LABELS = {
  from: "swe-selfplay.prepared-from",
  tree: "swe-selfplay.baseline-tree",
  workdir: "swe-selfplay.workdir",
} as const;

export interface PreparedImage {
  /** Image reference to create sandboxes from. */
  image: string;
  /** Tree id of the workdir as the image holds it: the starting state of a sandbox without patches. */
  tree: string;
}

export async function prepareImage(
  docker: Docker,
  source: Docker.ImageInspectInfo,
  sourceName: string,
  workdir: string,
  ignores: readonly string[],
  user: SandboxUser,
): Promise<PreparedImage> {
  const key = createHash("sha256")
    .update(JSON.stringify([PREPARATION_VERSION, source.Id, workdir, ignores, user]))
    .digest("hex")
    .slice(0, 20);
  const reference = `${PREPARED_REPOSITORY}:${key}`;
  try {
    const existing = await docker.getImage(reference).inspect();
    const tree = existing.Config?.Labels?.[PREPARED_LABELS.tree];
    if (tree) return { image: reference, tree };
  } catch {
    // not prepared yet
  }

  const started = performance.now();
  log.info("preparing image for sandboxes (once per image)", { image: sourceName, prepared: reference });
  const container = await docker.createContainer({
    Image: source.Id,
    Entrypoint: [],
    Cmd: ["sleep", "infinity"],
    WorkingDir: "/",
    NetworkDisabled: true,
    Labels: { [LABELS.owner]: formatOwner(currentOwner()), [LABELS.label]: `prepare ${sourceName}` },
    HostConfig: { Init: true, NetworkMode: "none" },
  });
  try {
    await container.start();
    await handOverRepository(container, sourceName, workdir, user);
    const tracker = new ChangeTracker(createContainerGitRunner(dockerContainerAccess(container), user), {
      gitDir: TRACKING_GIT_DIR,
      workTree: workdir,
    });
    await tracker.initialize(ignores);
    const tree = await tracker.stage(TRACKING_INDEX);
    const config = source.Config ?? {};
    await container.commit({
      repo: PREPARED_REPOSITORY,
      tag: key,
      changes: [
        `LABEL ${PREPARED_LABELS.tree}=${tree} ${PREPARED_LABELS.from}=${source.Id} ${PREPARED_LABELS.workdir}=${JSON.stringify(workdir)}`,
        `ENTRYPOINT ${JSON.stringify(config.Entrypoint ?? [])}`,
        `CMD ${JSON.stringify(config.Cmd ?? [])}`,
        `WORKDIR ${config.WorkingDir || "/"}`,
      ],
    });
    log.info("prepared image", {
      image: sourceName,
      prepared: reference,
      ms: Math.round(performance.now() - started),
    });
    return { image: reference, tree };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Checks that the image has the workdir and git, and hands the repository and our state to the sandbox's
 * user: the only step that runs as root.
 */
async function handOverRepository(
  container: Docker.Container,
  sourceName: string,
  workdir: string,
  user: SandboxUser,
): Promise<void> {
  const probe = await execInContainer(container, {
    command: [
      "sh",
      "-c",
      'test -d "$1" || { echo "no directory $1 in the image" >&2; exit 3; }; command -v git >/dev/null || { echo "git is not installed in the image" >&2; exit 4; }; mkdir -p "$2" /run/swe-selfplay && chown -R "$3" "$1" "$2" /run/swe-selfplay',
      "probe",
      workdir,
      TRACKING_GIT_DIR,
      userSpec(user),
    ],
    user: "0:0",
    cwd: "/",
    // Changing owners copies every file up into the container's layer: slow for large repositories, once.
    timeoutMs: 30 * 60_000,
    maxOutputBytes: 65_536,
  });
  if (probe.exitCode === 3) {
    throw new InputError(
      "environment-workdir-missing",
      `image ${sourceName} has no directory ${workdir}: put the repository there or give the environment's workdir`,
      { data: { image: sourceName, workdir } },
    );
  }
  if (probe.exitCode !== 0) {
    throw new InfrastructureError(
      "docker-image-unusable",
      `image ${sourceName} cannot host sandboxes: ${probe.stderr.toString("utf8").trim() || `probe ${probe.status} (exit ${probe.exitCode})`}; the Docker backend needs sh, git and coreutils in the image`,
      { data: { image: sourceName } },
    );
  }
}

/**
 * Removes prepared images whose source image is gone or no longer has a name (it was rebuilt, so nothing
 * can ask for it again). Images still in use by a container are kept; the sources are left to `docker image prune`.
 */
export async function pruneStalePreparedImages(docker: Docker): Promise<string[]> {
  const removed: string[] = [];
  const images = await docker.listImages({ all: false, filters: { label: [PREPARED_LABELS.from] } });
  for (const image of images) {
    const from = image.Labels?.[PREPARED_LABELS.from];
    if (!from) continue;
    let stale = false;
    try {
      const source = await docker.getImage(from).inspect();
      stale = (source.RepoTags ?? []).length === 0 && (source.RepoDigests ?? []).length === 0;
    } catch (error) {
      stale = (error as { statusCode?: number }).statusCode === 404;
    }
    if (!stale) continue;
    try {
      await docker.getImage(image.Id).remove();
      removed.push(image.Id);
    } catch {
      // in use by a container, or removed by another process meanwhile
    }
  }
  if (removed.length > 0) log.info(`removed ${removed.length} prepared image(s) of rebuilt environments`);
  return removed;
}
