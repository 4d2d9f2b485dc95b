// Every command block of README.md and docs/**/*.md, checked by rules rather than a list, so a new section is
// checked the day it is written:
// - `swe-selfplay …`: parsed by the CLI's own command definitions (unknown flags, missing arguments), then its
//   configuration and policy flags resolved as the command would (a --config file that must exist, bad values,
//   a model flag that conflicts with the policy). The light ones run for real: help, --print-config,
//   --config-schema, and bounded model commands (`solve … --attempts 1`, `run … --steps 1`) against the
//   scripted model server, in a scratch directory where the shipped example is built.
// - `python -m swe_selfplay.…`: every flag is one the module's --help lists, and its required ones are given.
// - `python -m vllm.entrypoints…`: carries the flags the docs say seeded requests need on vLLM's CPU build.
// - a local `--service http://127.0.0.1:PORT`: the same block starts `swe-selfplay serve` on that port.
// - `bash FILE`, `node FILE`, `npx tsx FILE`, `pip install ./python[EXTRAS]`, and any repository path or
//   `swe_selfplay.…` module named in a command: they exist.
// - `yaml` blocks that look like a run configuration: valid under the configuration schema.
// Other commands (curl, eval, export, third-party tools) are left as written.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readArtifactDir } from "../../src/artifact-io/index.js";
import { registerCommands } from "../../src/cli/commands/index.js";
import { configFromFlags } from "../../src/cli/commands/run.js";
import { policyConfigFrom } from "../../src/cli/policy-flags.js";
import { configSchema, loadConfig, parseConfig } from "../../src/config/index.js";
import { buildExampleRepo } from "../../src/examples/build.js";
import { selfPlayScript } from "../e2e/model-script.js";
import { projectRoot, runProgram } from "../support/cli.js";
import { type ScriptedModelServer, startScriptedModelServer } from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import {
  cliArguments,
  type DocCommand,
  documentCommands,
  documentFiles,
  documentYamlBlocks,
  flagValues,
  pythonModule,
  scriptPaths,
} from "./doc-commands.js";

const documents = documentFiles(projectRoot);
const commands = documents.flatMap((file) => documentCommands(projectRoot, file));

interface ParsedCli {
  path: string[];
  options: Record<string, unknown>;
  help: boolean;
}

/** Parses CLI arguments with the program's own command definitions, its actions replaced by a recorder. */
async function parseCli(args: string[]): Promise<ParsedCli> {
  let errors = "";
  const program = new Command()
    .name("swe-selfplay")
    .exitOverride()
    .configureOutput({
      writeOut: () => {},
      writeErr: (text) => {
        errors += text;
      },
    });
  registerCommands(program);
  let parsed: ParsedCli | null = null;
  const record = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      const subPath = [...path, sub.name()];
      if (sub.commands.length > 0) record(sub, subPath);
      else
        sub.action(() => {
          parsed = { path: subPath, options: sub.opts(), help: false };
        });
    }
  };
  record(program, []);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError && error.code === "commander.helpDisplayed")
      return { path: [], options: {}, help: true };
    throw new Error(`the CLI refuses it: ${errors.trim() || (error as Error).message}`);
  }
  if (parsed === null) throw new Error("names no command the CLI has");
  return parsed;
}

/** Resolves what the command would resolve before any work: its configuration and its policy. */
function checkCliSemantics(parsed: ParsedCli): void {
  const [name] = parsed.path;
  const options = parsed.options as Record<string, string | undefined>;
  if (name === "run") configFromFlags(parsed.options);
  else if (name === "solve" || name === "propose") policyConfigFrom(options, {});
  else if (typeof options.config === "string") loadConfig({ file: options.config });
}

/** Cheap enough to run for real: information only, or one small bounded model job. */
function isLight(args: string[]): boolean {
  if (args.some((word) => ["--help", "-h", "--print-config", "--config-schema"].includes(word))) return true;
  const [name] = args;
  if (name === "solve") return flagValues(args, "--attempts")[0] === "1";
  if (name === "run")
    return flagValues(args, "--steps")[0] === "1" && flagValues(args, "--duration").length === 0;
  return false;
}

const pythonHelp = new Map<string, string>();
/** `python -m MODULE [SUBCOMMAND] --help`: a module with subcommands (swe_selfplay.ray deploy) is checked
 * against the subcommand's own help. */
function moduleHelp(module: string, subcommand?: string): string {
  const key = subcommand ? `${module} ${subcommand}` : module;
  let help = pythonHelp.get(key);
  if (help === undefined) {
    const result = spawnSync("python3", ["-m", module, ...(subcommand ? [subcommand] : []), "--help"], {
      cwd: projectRoot,
      env: { ...process.env, PYTHONPATH: join(projectRoot, "python") },
      encoding: "utf8",
      timeout: 60_000,
    });
    help = `${result.stdout}\n${result.stderr}`;
    pythonHelp.set(key, help);
  }
  return help;
}

/** Options the usage line lists outside brackets: the required ones. */
function requiredOptions(help: string): string[] {
  const usage = /usage:([\s\S]*?)(\n\s*\n|$)/.exec(help)?.[1] ?? "";
  let outside = usage;
  for (let previous = ""; previous !== outside; ) {
    previous = outside;
    outside = outside.replace(/\[[^[\]]*\]/g, " ");
  }
  return [...outside.matchAll(/(?:^|\s)(--[\w-]+)/g)].map((match) => match[1]!);
}

function checkPythonModule(module: string, args: string[]): void {
  if (module.startsWith("swe_selfplay.")) {
    const subcommand = args[0] !== undefined && /^[a-z][\w-]*$/.test(args[0]) ? args[0] : undefined;
    const help = moduleHelp(module, subcommand);
    expect(help, `python -m ${module}${subcommand ? ` ${subcommand}` : ""} --help`).toMatch(/usage:/);
    for (const word of args.filter((entry) => entry.startsWith("--"))) {
      const flag = word.split("=")[0]!;
      expect(
        new RegExp(`(^|[\\s\\[,])${flag}([\\s=,\\]]|$)`, "m").test(help),
        `python -m ${module} has no ${flag}`,
      ).toBe(true);
    }
    for (const flag of requiredOptions(help))
      expect(args.includes(flag), `python -m ${module} needs ${flag}`).toBe(true);
  } else if (module.startsWith("vllm.")) {
    // docs/training.md and README: the CPU build crashes on seeded requests with chunked prefill on.
    for (const flag of ["--no-enable-chunked-prefill", "--max-num-batched-tokens"])
      expect(args, `a vLLM server for seeded requests needs ${flag}`).toContain(flag);
  }
}

/** Repository paths and swe_selfplay modules a command names exist. */
function checkNamedPaths(command: DocCommand): void {
  const paths = [
    ...command.text.matchAll(
      /(?:^|[\s'"=(])(?:\.\/)?((?:examples|scripts|docs|bench|python|src|test)\/[\w./-]*)/g,
    ),
  ].map((match) => match[1]!.replace(/[.]+$/, ""));
  for (const path of [...paths, ...scriptPaths(command)])
    expect(existsSync(join(projectRoot, path)), `${path} does not exist`).toBe(true);
  for (const match of command.text.matchAll(/(?:^|[\s=])(swe_selfplay(?:\.\w+)+)/g)) {
    // A module, or an attribute of one: swe_selfplay.adapters.slime.generate is python/…/slime.py's generate.
    const parts = match[1]!.split(".");
    const found = [parts.length, parts.length - 1].some((length) => {
      const base = join(projectRoot, "python", ...parts.slice(0, length));
      return existsSync(`${base}.py`) || existsSync(join(base, "__init__.py"));
    });
    expect(found, `module ${match[1]} is not in python/`).toBe(true);
  }
  if (command.words[0] === "pip" && command.words[1] === "install") {
    const pyproject = readFileSync(join(projectRoot, "python", "pyproject.toml"), "utf8");
    for (const word of command.words.slice(2).filter((entry) => entry.startsWith("./"))) {
      const [, path, extras] = /^(\.\/[\w./-]+)(?:\[([\w,]+)\])?$/.exec(word) ?? [];
      expect(path, `cannot read ${word}`).toBeDefined();
      expect(existsSync(join(projectRoot, path!))).toBe(true);
      for (const extra of extras?.split(",") ?? [])
        expect(pyproject, `python has no extra [${extra}]`).toMatch(new RegExp(`^${extra} = `, "m"));
    }
  }
}

/** The port a local `swe-selfplay serve` in the same block listens on, for each local --service URL. */
function checkLocalServices(command: DocCommand): void {
  for (const url of flagValues(command.words, "--service")) {
    const local = /^http:\/\/(?:localhost|127\.0\.0\.1):(\d+)/.exec(url);
    if (!local) continue;
    const ports = commands
      .filter((other) => other.file === command.file && other.block === command.block)
      .map(cliArguments)
      .filter((args): args is string[] => args?.[0] === "serve")
      .map((args) => /:(\d+)$/.exec(flagValues(args, "--listen")[0] ?? "127.0.0.1:8780")?.[1]);
    expect(
      ports,
      `--service ${url}: no \`swe-selfplay serve\` in this block listens on port ${local[1]}`,
    ).toContain(local[1]);
  }
}

describe("the documents' command blocks", () => {
  it("are found in README.md and docs/, with CLI commands among them, some light enough to run", () => {
    expect(documents).toContain("README.md");
    expect(documents).toContain("docs/training.md");
    const cli = commands.map(cliArguments).filter((args): args is string[] => args !== null);
    expect(cli.length).toBeGreaterThan(10);
    expect(cli.filter(isLight).length).toBeGreaterThanOrEqual(3);
  });

  // The light commands run in a scratch directory that has the repository's examples/ and the built example.
  const scratch = makeTempDir("swe-selfplay-docs-");
  let server: ScriptedModelServer | null = null;
  let ready: Promise<void> | null = null;
  const prepare = () => {
    ready ??= (async () => {
      symlinkSync(join(projectRoot, "examples"), join(scratch.path, "examples"));
      mkdirSync(join(scratch.path, ".swe-selfplay", "examples"), { recursive: true });
      await buildExampleRepo("inkwell", join(scratch.path, ".swe-selfplay", "examples", "inkwell"));
      const artifact = await readArtifactDir(join(projectRoot, "examples", "inkwell", "artifact"));
      server = await startScriptedModelServer(selfPlayScript(artifact));
    })();
    return ready;
  };
  afterAll(async () => {
    await (server as ScriptedModelServer | null)?.close();
    scratch.remove();
  });

  /** The command as run here: the scripted model server for any local model URL. */
  const runnable = (args: string[]): string[] =>
    args.map((word, index) =>
      args[index - 1] === "--base-url" && /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/v1$/.test(word)
        ? (server as ScriptedModelServer | null)!.baseUrl
        : word,
    );

  for (const command of commands) {
    const title = `${command.file}:${command.line} ${command.text.length > 90 ? `${command.text.slice(0, 90)}…` : command.text}`;
    it(title, async () => {
      checkNamedPaths(command);
      checkLocalServices(command);
      const module = pythonModule(command);
      if (module) checkPythonModule(module.module, module.args);
      const args = cliArguments(command);
      if (args === null) return;
      const parsed = await parseCli(args);
      if (!parsed.help) checkCliSemantics(parsed);
      if (!isLight(args)) return;
      await prepare();
      const result = await runProgram(
        process.execPath,
        [join(projectRoot, "bin", "swe-selfplay.js"), ...runnable(args)],
        {
          cwd: scratch.path,
          env: {
            ...process.env,
            ...command.env,
            SWE_SELFPLAY_LOG: "warn",
            SWE_SELFPLAY_BASE_URL: "",
            SWE_SELFPLAY_MODEL: "",
          },
          timeoutMs: 280_000,
        },
      );
      expect(result.code, `exit ${result.code}\n${result.stderr.slice(-3000)}`).toBe(0);
    }, 300_000);
  }

  for (const block of documents.flatMap((file) => documentYamlBlocks(projectRoot, file))) {
    it(`${block.file}:${block.line} yaml`, () => {
      const raw = parseYaml(block.text) as unknown;
      const keys = Object.keys(configSchema.shape);
      const isConfig =
        raw !== null &&
        typeof raw === "object" &&
        !Array.isArray(raw) &&
        Object.keys(raw).every((key) => keys.includes(key));
      if (isConfig) parseConfig(raw, `${block.file}:${block.line}`);
    });
  }
});
