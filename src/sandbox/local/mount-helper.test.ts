// The helper process: overlay mounts by system call, and the control-group watch that kills what a dead
// program left running. Needs root (mounts, cgroups); skipped otherwise with the reason.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import { CommandCgroup, detectCgroups } from "./cgroups.js";
import { mountRequest } from "./mount-helper.js";

const privileged = process.getuid?.() === 0 && existsSync("/usr/bin/python3");
if (!privileged) process.stderr.write("skipped, why: the mount helper needs root and /usr/bin/python3\n");

describe.skipIf(!privileged)("mount helper", () => {
  const scratch = makeTempDir("swe-selfplay-helper-");
  afterAll(() => scratch.remove());

  it("mounts and unmounts an overlay", async () => {
    for (const name of ["lower", "upper", "work", "merged"]) mkdirSync(join(scratch.path, name));
    writeFileSync(join(scratch.path, "lower", "file.txt"), "from below\n");
    const merged = join(scratch.path, "merged");
    const options = `lowerdir=${join(scratch.path, "lower")},upperdir=${join(scratch.path, "upper")},workdir=${join(scratch.path, "work")}`;
    expect(await mountRequest({ op: "mount", target: merged, options })).toEqual({ status: "done" });
    expect(readFileSync(join(merged, "file.txt"), "utf8")).toBe("from below\n");
    expect(await mountRequest({ op: "unmount", target: merged })).toEqual({ status: "done" });
    expect(existsSync(join(merged, "file.txt"))).toBe(false);
    const again = await mountRequest({ op: "unmount", target: merged });
    expect(again?.status).toBe("failed");
  });

  it("kills the processes of a watched program's groups when the program's end of the pipe closes", async () => {
    const support = detectCgroups();
    expect(support).not.toBeNull();
    const prefix = `p${process.pid}9-helper-test-`;
    const group = CommandCgroup.create(support!, `${prefix}1`, { pids: 16 });
    const sleeper = spawn("sleep", ["100"], { stdio: "ignore" });
    for (const file of group.procsFiles) writeFileSync(file, String(sleeper.pid));
    const died = new Promise<string | null>((resolve) =>
      sleeper.on("exit", (_code, signal) => resolve(signal)),
    );
    const script = fileURLToPath(new URL("./mount-helper.py", import.meta.url));
    const helper = spawn("/usr/bin/python3", ["-I", "-S", script], { stdio: ["pipe", "pipe", "inherit"] });
    const reply = new Promise<string>((resolve) => helper.stdout.setEncoding("utf8").once("data", resolve));
    helper.stdin.write(
      `${JSON.stringify({ op: "watch", parents: Object.values(support!.parents), prefix })}\n`,
    );
    expect(JSON.parse(await reply)).toEqual({ ok: true });
    expect(group.members()).toEqual([sleeper.pid]);
    helper.stdin.end();
    expect(await died).toBe("SIGKILL");
    await new Promise((resolve) => helper.on("close", resolve));
    expect(group.directories.some((directory) => existsSync(directory))).toBe(false);
  });
});
