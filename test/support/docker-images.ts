// Test images made through the Engine API: the base image plus a host directory (or generated files) at
// /testbed, committed under a tag. Cached by a content key label so reruns reuse them.

import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, relative } from "node:path";
import Docker from "dockerode";
import { pack } from "tar-stream";
import { BASE_IMAGE } from "./toolz.js";

const CONTENT_KEY = "swe-selfplay.content-key";

export interface ImageFile {
  /** Path relative to the workdir. */
  path: string;
  content: string | Buffer;
  mode?: number;
  /** Target of a symbolic link instead of content. */
  linkTo?: string;
}

/** Files of a host directory (symbolic links kept as links), for imageWithFiles. */
export async function filesOfDirectory(directory: string): Promise<ImageFile[]> {
  const files: ImageFile[] = [];
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const name = relative(directory, path);
      const status = await lstat(path);
      if (status.isSymbolicLink()) files.push({ path: name, content: "", linkTo: await readlink(path) });
      else if (status.isDirectory()) await walk(path);
      else if (status.isFile())
        files.push({ path: name, content: await readFile(path), mode: status.mode & 0o777 });
    }
  };
  await walk(directory);
  return files.sort((left, right) => left.path.localeCompare(right.path));
}

/**
 * Returns `tag`, an image made of `base` with `files` at `workdir`; reused when one with the same content
 * exists. Runs `setup` (a shell command) in the workdir after copying when given (e.g. `git init`).
 */
export async function imageWithFiles(options: {
  tag: string;
  files: readonly ImageFile[];
  base?: string;
  workdir?: string;
  setup?: string;
  docker?: Docker;
}): Promise<string> {
  const docker = options.docker ?? new Docker();
  const base = options.base ?? BASE_IMAGE;
  const workdir = options.workdir ?? "/testbed";
  const baseInfo = await docker.getImage(base).inspect();
  const hash = createHash("sha256")
    .update(baseInfo.Id)
    .update(workdir)
    .update(options.setup ?? "");
  for (const file of options.files) {
    hash.update(`\0${file.path}\0${file.mode ?? 0o644}\0${file.linkTo ?? ""}\0`).update(file.content);
  }
  const key = hash.digest("hex").slice(0, 32);
  try {
    const existing = await docker.getImage(options.tag).inspect();
    if (existing.Config?.Labels?.[CONTENT_KEY] === key) return options.tag;
  } catch {
    // not built yet
  }

  const container = await docker.createContainer({
    Image: base,
    Entrypoint: [],
    Cmd: ["sleep", "infinity"],
    HostConfig: { Init: true, NetworkMode: "none" },
  });
  try {
    await container.start();
    const archive = pack();
    const directories = new Set<string>();
    for (const file of options.files) {
      const parts = file.path.split("/");
      for (let depth = 1; depth < parts.length; depth++) {
        const directory = parts.slice(0, depth).join("/");
        if (!directories.has(directory)) {
          directories.add(directory);
          archive.entry({ name: `${directory}/`, type: "directory", mode: 0o755 });
        }
      }
      if (file.linkTo !== undefined) {
        archive.entry({ name: file.path, type: "symlink", linkname: file.linkTo });
      } else {
        const content = Buffer.from(file.content);
        archive.entry({ name: file.path, mode: file.mode ?? 0o644, size: content.length }, content);
      }
    }
    archive.finalize();
    await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: workdir });
    if (options.setup) {
      const exec = await container.exec({
        Cmd: ["sh", "-c", options.setup],
        WorkingDir: workdir,
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      const output: Buffer[] = [];
      await new Promise<void>((resolve) => {
        stream.on("data", (chunk: Buffer) => output.push(chunk));
        stream.on("end", resolve);
        stream.on("close", resolve);
      });
      const info = await exec.inspect();
      if (info.ExitCode !== 0) {
        throw new Error(
          `setup of image ${options.tag} failed (exit ${info.ExitCode}): ${Buffer.concat(output).toString("utf8")}`,
        );
      }
    }
    const [repo, tag] = splitTag(options.tag);
    await container.commit({
      repo,
      tag,
      changes: [`LABEL ${CONTENT_KEY}=${key}`, 'CMD ["bash"]', "ENTRYPOINT []", `WORKDIR ${workdir}`],
    });
    return options.tag;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

function splitTag(reference: string): [string, string] {
  const colon = reference.lastIndexOf(":");
  if (colon > reference.lastIndexOf("/")) return [reference.slice(0, colon), reference.slice(colon + 1)];
  return [reference, "latest"];
}

/** A small Python project with passing tests, as a git repository. */
export function smallPythonFiles(): ImageFile[] {
  return [
    { path: "calc/__init__.py", content: "" },
    {
      path: "calc/ops.py",
      content: "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n",
    },
    {
      path: "tests/test_ops.py",
      content:
        "from calc.ops import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
    },
    { path: "README.md", content: "# calc\n" },
  ];
}

/** `count` small source files spread over folders: a large repository for benchmarks. */
export function generatedFiles(count: number): ImageFile[] {
  const files: ImageFile[] = [];
  for (let index = 0; index < count; index++) {
    files.push({
      path: `package${index % 50}/module${Math.floor(index / 50)}/file${index}.py`,
      content: `VALUE_${index} = ${index}\n\n\ndef value_${index}():\n    return VALUE_${index}\n`,
    });
  }
  return files;
}

export const GIT_INIT_SETUP = "git init -q && git add -A && git commit -q -m initial";
