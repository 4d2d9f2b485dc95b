import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import type { Sandbox, SandboxBackend } from "../../ports/sandbox.js";
import { createLocalBackend } from "../../sandbox/local/backend.js";
import { createBashTool } from "./bash.js";
import { createEditorTool } from "./editor.js";
import { createSolverSubmitTool } from "./submit.js";

const temp = makeTempDir("agent-tools-");
let backend: SandboxBackend;
let sandbox: Sandbox;

beforeAll(async () => {
  const repo = join(temp.path, "repo");
  execFileSync("mkdir", ["-p", join(repo, "pkg")]);
  writeFileSync(
    join(repo, "pkg", "calc.py"),
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n",
  );
  execFileSync("git", ["init", "-q", repo]);
  execFileSync("git", ["-C", repo, "add", "."]);
  execFileSync("git", ["-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"]);
  backend = createLocalBackend();
  sandbox = await backend.create({ environment: { kind: "dir", path: repo }, label: "agent-tools-test" });
});

afterAll(async () => {
  await backend?.close();
  temp.remove();
});

const call = (tool: ReturnType<typeof createEditorTool>, args: unknown) =>
  tool.call(JSON.stringify(args), { sandbox });

describe("bash tool", () => {
  it("reports exit code, stdout and stderr", async () => {
    const outcome = await createBashTool().call(
      JSON.stringify({ command: "cat pkg/calc.py | head -1; echo oops >&2; exit 3" }),
      {
        sandbox,
      },
    );
    expect(outcome).toEqual({ status: "ok", output: "[exit code 3]\ndef add(a, b):\n[stderr]\noops" });
  });

  it("reports a timeout to the model instead of throwing", async () => {
    const outcome = await createBashTool({ timeoutMs: 500 }).call(
      JSON.stringify({ command: "echo started; sleep 30" }),
      {
        sandbox,
      },
    );
    expect(outcome.status).toBe("ok");
    expect(outcome.output).toMatch(/ran longer than 0.5 s and was killed/);
    expect(outcome.output).toContain("started");
  });

  it("answers malformed arguments with a message the model can act on", async () => {
    const bash = createBashTool();
    expect((await bash.call("{not json", { sandbox })).output).toMatch(/not valid JSON.*"command"/);
    const missing = await bash.call(JSON.stringify({ cmd: "ls" }), { sandbox });
    expect(missing.status).toBe("invalid");
    expect(missing.output).toMatch(/command: .*expected string/i);
  });
});

describe("editor tool", () => {
  it("views files with line numbers, ranges and directories", async () => {
    const editor = createEditorTool();
    const whole = await call(editor, { command: "view", path: "pkg/calc.py" });
    expect(whole.output.split("\n")[0]).toBe("     1\tdef add(a, b):");
    const range = await call(editor, { command: "view", path: "pkg/calc.py", view_range: [5, -1] });
    expect(range.output).toBe("     5\tdef sub(a, b):\n     6\t    return a + b");
    const directory = await call(editor, { command: "view", path: "." });
    expect(directory.output).toContain("/testbed/pkg/calc.py");
    expect(directory.output).not.toContain(".git/");
    expect((await call(editor, { command: "view", path: "pkg/calc.py", view_range: [9, 12] })).status).toBe(
      "invalid",
    );
    expect((await call(editor, { command: "view", path: "nowhere.py" })).output).toMatch(/does not exist/);
  });

  it("str_replace must match exactly once; undo_edit restores", async () => {
    const editor = createEditorTool();
    const ambiguous = await call(editor, {
      command: "str_replace",
      path: "pkg/calc.py",
      old_str: "return a + b",
      new_str: "x",
    });
    expect(ambiguous.status).toBe("invalid");
    expect(ambiguous.output).toMatch(/more than once.*lines 2 and 6/);
    expect(
      (await call(editor, { command: "str_replace", path: "pkg/calc.py", old_str: "absent" })).status,
    ).toBe("invalid");
    const edited = await call(editor, {
      command: "str_replace",
      path: "pkg/calc.py",
      old_str: "def sub(a, b):\n    return a + b",
      new_str: "def sub(a, b):\n    return a - b",
    });
    expect(edited.status).toBe("ok");
    expect(edited.output).toContain("     6\t    return a - b");
    expect(await sandbox.diff()).toContain("+    return a - b");
    expect((await call(editor, { command: "undo_edit", path: "pkg/calc.py" })).status).toBe("ok");
    expect(await sandbox.diff()).toBe("");
    expect((await call(editor, { command: "undo_edit", path: "pkg/calc.py" })).status).toBe("invalid");
  });

  it("creates new files (never overwriting) and inserts lines", async () => {
    const editor = createEditorTool();
    expect((await call(editor, { command: "create", path: "pkg/calc.py", file_text: "x" })).output).toMatch(
      /already exists/,
    );
    expect(
      (await call(editor, { command: "create", path: "docs/notes.txt", file_text: "one\ntwo\n" })).status,
    ).toBe("ok");
    const inserted = await call(editor, {
      command: "insert",
      path: "docs/notes.txt",
      insert_line: 1,
      insert_text: "one and a half",
    });
    expect(inserted.status).toBe("ok");
    expect((await sandbox.readFile("docs/notes.txt")).toString()).toBe("one\none and a half\ntwo\n");
    expect(
      (await call(editor, { command: "insert", path: "docs/notes.txt", insert_line: 9, insert_text: "x" }))
        .status,
    ).toBe("invalid");
    await call(editor, { command: "undo_edit", path: "docs/notes.txt" });
    await call(editor, { command: "undo_edit", path: "docs/notes.txt" });
    expect(await sandbox.diff()).toBe("");
  });

  it("rejects an unknown command with the list of valid ones", async () => {
    const outcome = await call(createEditorTool(), { command: "delete", path: "a" });
    expect(outcome.status).toBe("invalid");
    expect(outcome.output).toMatch(/view.*create.*str_replace/);
  });
});

describe("solver submit tool", () => {
  it("submits the current diff, or a patch file", async () => {
    const submit = createSolverSubmitTool();
    await sandbox.writeFile("pkg/extra.py", "X = 1\n");
    const current = await submit.call("{}", { sandbox });
    expect(current.status === "submitted" && (current.submission as { patch: string }).patch).toContain(
      "+X = 1",
    );
    await sandbox.writeFile("/tmp/fix.patch", "diff --git a/x b/x\n");
    const fromFile = await submit.call(JSON.stringify({ patch_path: "/tmp/fix.patch" }), { sandbox });
    expect(fromFile.status === "submitted" && (fromFile.submission as { patch: string }).patch).toBe(
      "diff --git a/x b/x\n",
    );
    expect((await submit.call(JSON.stringify({ patch_path: "/tmp/none.patch" }), { sandbox })).status).toBe(
      "invalid",
    );
    await sandbox.run({ command: "rm pkg/extra.py" });
  });
});
