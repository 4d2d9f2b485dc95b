import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SANDBOX_PATH, sandboxPath } from "./bubblewrap.js";

describe("the sandbox's PATH", () => {
  it("adds the toolchain directories that exist on the host after the standard ones", () => {
    const standard = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    expect(sandboxPath(() => false)).toBe(standard);
    expect(sandboxPath((path) => path === "/usr/local/go/bin")).toBe(`${standard}:/usr/local/go/bin`);
    expect(sandboxPath(() => true)).toBe(`${standard}:/usr/local/go/bin:/usr/local/cargo/bin`);
    expect(SANDBOX_PATH.split(":").includes("/usr/local/go/bin")).toBe(existsSync("/usr/local/go/bin"));
  });
});
