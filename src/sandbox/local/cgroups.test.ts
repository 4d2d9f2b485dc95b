// A command's control group that cannot be removed when the command ends is removed once it can be, and
// only then counted as freed. Under a slowed disk, processes killed at a command's end can sit in
// uninterruptible sleep for longer than the few tries removal made, and the group was left behind (the soak
// saw the service's account hold such groups after its steps had ended). Here the group is kept busy by a
// child group, which the kernel refuses to let a group be removed with, the same way it refuses members.
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CommandCgroup, detectCgroups, removeWhenEmpty } from "./cgroups.js";

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 3000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

const support = detectCgroups();

describe.skipIf(support === null)("a command's control group", () => {
  it("that cannot be removed yet is removed once it can, and only then counted freed", async () => {
    const group = CommandCgroup.create(support!, `p${process.pid}-busy-test`, { pids: 16 });
    const busy = join(group.directories[0]!, "busy");
    mkdirSync(busy);
    try {
      let freed = false;
      expect(removeWhenEmpty(group, () => (freed = true), { intervalMs: 50 })).toBe(false);
      expect(freed).toBe(false);
      expect(existsSync(group.directories[0]!)).toBe(true);
      rmdirSync(busy);
      await until(() => freed, "the group is removed");
      expect(group.directories.some((directory) => existsSync(directory))).toBe(false);
    } finally {
      if (existsSync(busy)) rmdirSync(busy);
      group.remove();
    }
  });
});
