// Reads the command blocks of the project's Markdown documents: every fenced `sh`/`bash` block becomes a list of
// commands (continuation lines joined, comments and `&` dropped, `a; b` split), each with its words as a shell
// would split them, its leading VAR=value assignments, and where it stands; `yaml` blocks are kept as text.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export interface DocCommand {
  /** Repository-relative path of the document. */
  file: string;
  /** 1-based line of the command's first line. */
  line: number;
  /** 1-based line where its code block starts: commands of one block share it. */
  block: number;
  /** The command as written (continuations joined). */
  text: string;
  /** Leading VAR=value assignments. */
  env: Record<string, string>;
  /** The words after the assignments, unquoted. */
  words: string[];
  background: boolean;
}

export interface DocBlock {
  file: string;
  line: number;
  language: string;
  text: string;
}

/** README.md and every Markdown file under docs/. */
export function documentFiles(root: string): string[] {
  const files = [join(root, "README.md")];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) files.push(path);
    }
  };
  walk(join(root, "docs"));
  return files.map((file) => relative(root, file)).sort();
}

/** The fenced code blocks of a Markdown text. */
export function codeBlocks(file: string, markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[index]!);
    if (!open) continue;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) body.push(lines[end++]!);
    blocks.push({ file, line: index + 2, language: open[2]!.toLowerCase(), text: body.join("\n") });
    index = end;
  }
  return blocks;
}

const SHELL_LANGUAGES = new Set(["sh", "bash", "shell", "console"]);

/** Every command of a document's shell blocks. */
export function documentCommands(root: string, file: string): DocCommand[] {
  const blocks = codeBlocks(file, readFileSync(join(root, file), "utf8"));
  return blocks.filter((block) => SHELL_LANGUAGES.has(block.language)).flatMap(blockCommands);
}

/** Every yaml block of a document. */
export function documentYamlBlocks(root: string, file: string): DocBlock[] {
  return codeBlocks(file, readFileSync(join(root, file), "utf8")).filter((block) =>
    ["yaml", "yml"].includes(block.language),
  );
}

export function blockCommands(block: DocBlock): DocCommand[] {
  const commands: DocCommand[] = [];
  const lines = block.text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const first = index;
    let text = lines[index]!;
    for (;;) {
      if (/\\\s*$/.test(text) && index + 1 < lines.length)
        text = `${text.replace(/\\\s*$/, "")} ${lines[++index]!.trim()}`;
      // A quoted argument may span lines (a JSON body in single quotes).
      else if (insideQuote(text) && index + 1 < lines.length) text = `${text}\n${lines[++index]!}`;
      else break;
    }
    text = stripComment(text).trim();
    if (text === "" || text.startsWith("#")) continue;
    for (const part of splitStatements(text)) {
      const background = /&\s*$/.test(part) && !/&&\s*$/.test(part);
      const statement = background ? part.replace(/&\s*$/, "").trim() : part.trim();
      if (statement === "") continue;
      const words = shellWords(statement);
      const env: Record<string, string> = {};
      while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
        const word = words.shift()!;
        env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1);
      }
      commands.push({
        file: block.file,
        line: block.line + first,
        block: block.line,
        text: statement,
        env,
        words,
        background,
      });
    }
  }
  return commands;
}

/** Scans shell text for quotes and comments: where a ` #` comment outside quotes starts (null: none), and
 * whether the text ends inside a quoted string. */
function scanShell(text: string): { comment: number | null; openQuote: boolean } {
  let quote: string | null = null;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote) {
      if (char === quote) quote = null;
      else if (char === "\\" && quote === '"') index++;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "\\") index++;
    else if (char === "#" && (index === 0 || /\s/.test(text[index - 1]!)))
      return { comment: index, openQuote: false };
  }
  return { comment: null, openQuote: quote !== null };
}

/** Whether the text ends inside a quoted string. */
function insideQuote(text: string): boolean {
  return scanShell(text).openQuote;
}

/** The text before a ` #` comment that is outside quotes. */
function stripComment(text: string): string {
  const { comment } = scanShell(text);
  return comment === null ? text : text.slice(0, comment);
}

/** Splits `a; b` and `a && b` outside quotes and `$( … )`. */
function splitStatements(text: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote === "'") {
      if (char === "'") quote = null;
      continue;
    }
    if (char === "\\") {
      index++;
      continue;
    }
    if (char === "$" && text[index + 1] === "(") {
      depth++;
      index++;
      continue;
    }
    if (depth > 0) {
      if (char === ")") depth--;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = null;
      continue;
    }
    if (char === "'" || char === '"') quote = char;
    else if (char === ";" || (char === "&" && text[index + 1] === "&")) {
      parts.push(text.slice(start, index));
      if (char === "&") index++;
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Words as a POSIX shell splits them (quotes removed; `$VAR` and `$( … )` left as written). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (depth > 0) {
      word = (word ?? "") + char;
      if (char === "(") depth++;
      else if (char === ")") depth--;
      continue;
    }
    if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (char === "'") {
      const end = text.indexOf("'", index + 1);
      word = (word ?? "") + text.slice(index + 1, end === -1 ? undefined : end);
      index = end === -1 ? text.length : end;
    } else if (char === '"') {
      let value = "";
      let cursor = index + 1;
      while (cursor < text.length && text[cursor] !== '"') {
        if (text[cursor] === "\\" && cursor + 1 < text.length) cursor++;
        value += text[cursor];
        cursor++;
      }
      word = (word ?? "") + value;
      index = cursor;
    } else if (char === "\\") {
      word = (word ?? "") + (text[index + 1] ?? "");
      index++;
    } else if (char === "$" && text[index + 1] === "(") {
      word = `${word ?? ""}$(`;
      depth = 1;
      index++;
    } else word = (word ?? "") + char;
  }
  if (word !== null) words.push(word);
  return words;
}

/** A command that calls this project's CLI: the words after `npx swe-selfplay` or `swe-selfplay`, else null. */
export function cliArguments(command: DocCommand): string[] | null {
  const [first, second] = command.words;
  if (first === "npx" && second === "swe-selfplay") return command.words.slice(2);
  if (first === "swe-selfplay") return command.words.slice(1);
  return null;
}

/** A `python -m MODULE …` command (any interpreter): the module and its arguments, else null. */
export function pythonModule(command: DocCommand): { module: string; args: string[] } | null {
  const interpreter = command.words[0] ?? "";
  if (!/(^|\/)python[\d.]*$|PYTHON\}?$/.test(interpreter)) return null;
  const flag = command.words.indexOf("-m");
  if (flag !== 1 || command.words[2] === undefined) return null;
  return { module: command.words[2], args: command.words.slice(3) };
}

/** Repository files a command runs: `bash FILE`, `node FILE`, `npx tsx FILE`, `python FILE` (not -m). */
export function scriptPaths(command: DocCommand): string[] {
  const words = command.words;
  const runner = words[0];
  let rest: string[] = [];
  if (runner === "bash" || runner === "sh" || runner === "node") rest = words.slice(1);
  else if (runner === "npx" && words[1] === "tsx") rest = words.slice(2);
  else return [];
  const script = rest.find((word) => !word.startsWith("-"));
  return script && /\.(sh|ts|js|mjs)$/.test(script) ? [script] : [];
}

/** The value of `--flag VALUE` or `--flag=VALUE` in a word list, every occurrence. */
export function flagValues(args: readonly string[], flag: string): string[] {
  const values: string[] = [];
  args.forEach((word, index) => {
    if (word === flag && args[index + 1] !== undefined) values.push(args[index + 1]!);
    else if (word.startsWith(`${flag}=`)) values.push(word.slice(flag.length + 1));
  });
  return values;
}
