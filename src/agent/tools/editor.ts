// The `editor` tool: view (numbered lines, directory listing), create, str_replace (exactly one match),
// insert and undo_edit, over a SandboxView. Every refusal is a message for the model, never an exception.
import { posix } from "node:path";
import { z } from "zod";
import type { SandboxView } from "../../ports/sandbox.js";
import { shellQuote } from "../../shell-quote.js";
import { defineTool, loadDescription, type Tool, type ToolOutcome } from "./tool.js";

const SNIPPET_CONTEXT = 4;

const schema = z
  .object({
    command: z.enum(["view", "create", "str_replace", "insert", "undo_edit"]),
    path: z.string().min(1).describe("Relative to the repository root, or absolute."),
    view_range: z
      .array(z.number().int())
      .length(2)
      .optional()
      .describe("view: [first, last] line, -1 = end."),
    file_text: z.string().optional().describe("create: the file's content."),
    old_str: z.string().optional().describe("str_replace: exact text, occurring once."),
    new_str: z.string().optional().describe("str_replace: the new text."),
    insert_line: z.number().int().min(0).optional().describe("insert: after this line (0 = top)."),
    insert_text: z.string().optional().describe("insert: the text."),
  })
  .strict();

export function numberLines(text: string, firstLine = 1): string {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((line, index) => `${String(firstLine + index).padStart(6)}\t${line}`).join("\n");
}

function invalid(output: string): ToolOutcome {
  return { status: "invalid", output };
}

async function readText(sandbox: SandboxView, path: string): Promise<string | null> {
  try {
    return (await sandbox.readFile(path)).toString("utf8");
  } catch {
    return null;
  }
}

function snippet(text: string, firstChangedLine: number, changedLineCount: number): string {
  const lines = text.split("\n");
  const start = Math.max(1, firstChangedLine - SNIPPET_CONTEXT);
  const end = Math.min(lines.length, firstChangedLine + changedLineCount + SNIPPET_CONTEXT);
  return numberLines(lines.slice(start - 1, end).join("\n"), start);
}

type EditorArguments = z.output<typeof schema>;

export function createEditorTool(): Tool {
  const editor = new Editor();
  return defineTool({
    name: "editor",
    description: loadDescription("editor.md"),
    schema,
    run: (args, { sandbox }) => editor.run(args, sandbox),
  });
}

/** One episode's editor: the commands, and the contents before each edit for undo_edit. */
class Editor {
  /** Contents before each edit, per resolved path; null = the file did not exist. */
  private readonly history = new Map<string, (string | null)[]>();

  run(args: EditorArguments, sandbox: SandboxView): Promise<ToolOutcome> {
    const path = posix.isAbsolute(args.path)
      ? posix.normalize(args.path)
      : posix.join(sandbox.workdir, args.path);
    switch (args.command) {
      case "view":
        return this.view(sandbox, path, args.view_range as [number, number] | undefined);
      case "create":
        return this.create(sandbox, path, args.file_text);
      case "str_replace":
        return this.replace(sandbox, path, args.old_str, args.new_str ?? "");
      case "insert":
        return this.insert(sandbox, path, args.insert_line, args.insert_text);
      case "undo_edit":
        return this.undo(sandbox, path);
    }
  }

  private async view(
    sandbox: SandboxView,
    path: string,
    range: [number, number] | undefined,
  ): Promise<ToolOutcome> {
    const probe = await sandbox.run({
      command: `if [ -d ${shellQuote(path)} ]; then echo directory; find ${shellQuote(path)} -maxdepth 2 -not -path '*/.git' -not -path '*/.git/*' -not -name '*.pyc' | sort | head -n 1000; elif [ -f ${shellQuote(path)} ]; then echo file; else echo missing; fi`,
      timeoutMs: 30_000,
    });
    const [kind, ...listing] = probe.stdout.split("\n");
    if (kind === "directory")
      return {
        status: "ok",
        output: `Files and directories in ${path}, two levels deep:\n${listing.join("\n").trim()}`,
      };
    if (kind !== "file")
      return invalid(`${path} does not exist. Use \`view\` on a directory to see what is there.`);
    const text = await readText(sandbox, path);
    if (text === null) return invalid(`${path} could not be read.`);
    if (!range) return { status: "ok", output: numberLines(text) };
    const lines = text.split("\n");
    const total = text.endsWith("\n") ? lines.length - 1 : lines.length;
    const [first, last] = range;
    const end = last === -1 ? total : last;
    if (first < 1 || first > Math.max(total, 1) || end < first || end > total)
      return invalid(`view_range [${first}, ${last}] is outside ${path}, which has ${total} lines.`);
    return { status: "ok", output: numberLines(lines.slice(first - 1, end).join("\n"), first) };
  }

  private async create(
    sandbox: SandboxView,
    path: string,
    content: string | undefined,
  ): Promise<ToolOutcome> {
    if (content === undefined) return invalid("create needs `file_text`, the content of the new file.");
    if ((await readText(sandbox, path)) !== null)
      return invalid(
        `${path} already exists; create never overwrites. Use str_replace or insert to change it.`,
      );
    await sandbox.run({ command: `mkdir -p ${shellQuote(posix.dirname(path))}`, timeoutMs: 30_000 });
    const failure = await this.write(sandbox, path, null, content);
    return failure ? invalid(failure) : { status: "ok", output: `Created ${path}.` };
  }

  private async replace(
    sandbox: SandboxView,
    path: string,
    oldText: string | undefined,
    newText: string,
  ): Promise<ToolOutcome> {
    if (oldText === undefined || oldText === "")
      return invalid("str_replace needs a non-empty `old_str` that occurs exactly once in the file.");
    const text = await readText(sandbox, path);
    if (text === null) return invalid(`${path} does not exist or is not a readable file.`);
    const first = text.indexOf(oldText);
    if (first === -1)
      return invalid(
        `old_str does not occur in ${path}; it must match exactly, whitespace and indentation included.`,
      );
    const second = text.indexOf(oldText, first + 1);
    if (second !== -1) {
      const lineOf = (offset: number) => text.slice(0, offset).split("\n").length;
      return invalid(
        `old_str occurs more than once in ${path} (lines ${lineOf(first)} and ${lineOf(second)}, maybe more); include more surrounding lines so it is unique.`,
      );
    }
    const after = text.slice(0, first) + newText + text.slice(first + oldText.length);
    const failure = await this.write(sandbox, path, text, after);
    if (failure) return invalid(failure);
    const line = text.slice(0, first).split("\n").length;
    return {
      status: "ok",
      output: `Edited ${path}. The changed region now reads:\n${snippet(after, line, newText.split("\n").length)}`,
    };
  }

  private async insert(
    sandbox: SandboxView,
    path: string,
    afterLine: number | undefined,
    insertText: string | undefined,
  ): Promise<ToolOutcome> {
    if (afterLine === undefined || insertText === undefined)
      return invalid("insert needs `insert_line` (0 = top of the file) and `insert_text`.");
    const text = await readText(sandbox, path);
    if (text === null) return invalid(`${path} does not exist or is not a readable file.`);
    const lines = text.split("\n");
    const hadFinalNewline = text.endsWith("\n");
    if (hadFinalNewline) lines.pop();
    if (afterLine > lines.length)
      return invalid(
        `insert_line ${afterLine} is beyond the end of ${path}, which has ${lines.length} lines.`,
      );
    const inserted = insertText.replace(/\n$/, "").split("\n");
    lines.splice(afterLine, 0, ...inserted);
    const after = lines.join("\n") + (hadFinalNewline || text === "" ? "\n" : "");
    const failure = await this.write(sandbox, path, text, after);
    if (failure) return invalid(failure);
    return {
      status: "ok",
      output: `Inserted ${inserted.length} line(s) into ${path}:\n${snippet(after, afterLine + 1, inserted.length)}`,
    };
  }

  private async undo(sandbox: SandboxView, path: string): Promise<ToolOutcome> {
    const before = this.history.get(path)?.pop();
    if (before === undefined) return invalid(`There is no edit of ${path} to undo.`);
    if (before === null) {
      await sandbox.run({ command: `rm -f ${shellQuote(path)}`, timeoutMs: 30_000 });
      return { status: "ok", output: `Undid the creation of ${path}; the file is gone.` };
    }
    await sandbox.writeFile(path, before);
    return { status: "ok", output: `Undid the last edit of ${path}.` };
  }

  /** Writes the new content and remembers the old; returns why the write failed, or null. */
  private async write(
    sandbox: SandboxView,
    path: string,
    before: string | null,
    after: string,
  ): Promise<string | null> {
    try {
      await sandbox.writeFile(path, after);
    } catch (error) {
      return `Could not write ${path}: ${(error as Error).message}`;
    }
    const stack = this.history.get(path) ?? [];
    stack.push(before);
    this.history.set(path, stack);
    return null;
  }
}
