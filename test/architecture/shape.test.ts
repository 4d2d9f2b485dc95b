// The architecture's rules, checked on the source itself (docs/architecture.md, DESIGN §5): ports import
// nothing outside ports, adapters never import each other, the domain reaches adapters only through ports,
// adapters are chosen in the composition root, no import cycles, and every production file and function
// stays small enough to be read in one sitting.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const src = join(root, "src");

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

/**
 * Declarative tables that are long by nature, not logic: each entry says why. Keep this list short.
 */
const LONG_FILE_EXCEPTIONS: Record<string, string> = {};
const LONG_FUNCTION_EXCEPTIONS: Record<string, string> = {};

/** Adapters implement ports; none imports another. */
const ADAPTERS = ["sandbox", "model", "store", "agent", "builtin"] as const;
/** The domain reaches adapters only through ports. */
const DOMAIN = ["artifact", "validation", "selfplay", "concurrency", "rollout"] as const;

interface SourceFile {
  path: string; // relative to src/, with forward slashes
  text: string;
  // target: relative to src/ for project files, else the specifier; names: the bindings a value import takes
  imports: { target: string; typeOnly: boolean; names: string[] }[];
}

function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return productionFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

function load(path: string): SourceFile {
  const text = readFileSync(path, "utf8");
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const imports: SourceFile["imports"] = [];
  for (const statement of file.statements) {
    if (
      !(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) ||
      !statement.moduleSpecifier ||
      !ts.isStringLiteral(statement.moduleSpecifier)
    )
      continue;
    const specifier = statement.moduleSpecifier.text;
    const typeOnly = ts.isImportDeclaration(statement)
      ? Boolean(statement.importClause?.isTypeOnly) ||
        Boolean(
          statement.importClause?.namedBindings &&
            ts.isNamedImports(statement.importClause.namedBindings) &&
            !statement.importClause.name &&
            statement.importClause.namedBindings.elements.length > 0 &&
            statement.importClause.namedBindings.elements.every((element) => element.isTypeOnly),
        )
      : statement.isTypeOnly;
    const target = specifier.startsWith(".")
      ? relative(src, resolve(dirname(path), specifier))
          .replaceAll("\\", "/")
          .replace(/\.js$/, ".ts")
      : specifier;
    const clause = ts.isImportDeclaration(statement) ? statement.importClause : undefined;
    const bindings =
      clause?.namedBindings ?? (ts.isExportDeclaration(statement) ? statement.exportClause : undefined);
    const names =
      bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))
        ? bindings.elements
            .filter((element) => !element.isTypeOnly)
            .map((element) => (element.propertyName ?? element.name).text)
        : [];
    imports.push({ target, typeOnly, names });
  }
  return { path: relative(src, path).replaceAll("\\", "/"), text, imports };
}

const files = productionFiles(src).map(load);
const topOf = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : path);
const isProject = (target: string) => target.endsWith(".ts") && !target.startsWith("..");

function violations(predicate: (file: SourceFile, target: string, typeOnly: boolean) => boolean): string[] {
  return files.flatMap((file) =>
    file.imports
      .filter(({ target, typeOnly }) => predicate(file, target, typeOnly))
      .map(({ target }) => `${file.path} imports ${target}`),
  );
}

describe("layers", () => {
  it("no production file imports test/ or vitest, nor anything outside src/ (the package ships src/ compiled)", () => {
    expect(
      violations(
        (_file, target) => target === "vitest" || target.startsWith("vitest/") || target.startsWith("../"),
      ),
    ).toEqual([]);
  });

  it("ports import nothing but other ports", () => {
    expect(violations((file, target) => topOf(file.path) === "ports" && topOf(target) !== "ports")).toEqual(
      [],
    );
  });

  it("adapters never import each other", () => {
    const adapters = new Set<string>(ADAPTERS);
    expect(
      violations(
        (file, target) =>
          adapters.has(topOf(file.path)) &&
          isProject(target) &&
          adapters.has(topOf(target)) &&
          topOf(target) !== topOf(file.path),
      ),
    ).toEqual([]);
  });

  it("sandbox backends never import each other, and only the router (sandbox/index.ts) names them", () => {
    const backendOf = (path: string) => /^sandbox\/(local|docker)\//.exec(path)?.[1];
    expect(
      violations((file, target) => {
        const to = backendOf(target);
        if (to === undefined) return false;
        const from = backendOf(file.path);
        return from === undefined ? file.path !== "sandbox/index.ts" : from !== to;
      }),
    ).toEqual([]);
  });

  it("the reusable container pieces (git over exec, the warm pool) know no Docker types", () => {
    const reusable = new Set(["sandbox/docker/container-git.ts", "sandbox/docker/warm-pool.ts"]);
    expect(
      violations(
        (file, target) =>
          reusable.has(file.path) &&
          (target === "dockerode" ||
            target === "sandbox/docker/engine.ts" ||
            target === "sandbox/docker/container-access.ts"),
      ),
    ).toEqual([]);
  });

  it("the composition root (compose/) is the only importer of adapters: elsewhere adapter imports are types, and only it opens a store", () => {
    const chosen = new Set(["sandbox", "model", "agent", "builtin"]);
    const exempt: Record<string, string> = {
      "index.ts": "the library entry: hands the adapters to a library user's own composition",
      "web/server.ts": "the dashboard opens the store it shows read-only, by path",
    };
    expect(
      files
        .filter((file) => ![...ADAPTERS, "compose"].includes(topOf(file.path)) && !(file.path in exempt))
        .flatMap((file) =>
          file.imports
            .filter(
              ({ target, typeOnly, names }) =>
                !typeOnly &&
                isProject(target) &&
                ((chosen.has(topOf(target)) && names.length > 0) ||
                  (topOf(target) === "store" && names.some((name) => /^open\w*Store$/.test(name)))),
            )
            .map(({ target, names }) => `${file.path} imports ${names.join(", ")} from ${target}`),
        ),
    ).toEqual([]);
  });

  it("every command opens its sandboxes through one function of the composition root", () => {
    const opening = files
      .filter((file) => /\bopenSandboxes\((?!\))/.test(file.text))
      .map((file) => file.path)
      .sort();
    expect(opening).toEqual(["compose/index.ts", "sandbox/index.ts"]);
  });

  it("the domain reaches adapters only through ports", () => {
    const domain = new Set<string>(DOMAIN);
    const adapters = new Set<string>([...ADAPTERS, "cli", "web", "serve"]);
    expect(
      violations(
        (file, target) => domain.has(topOf(file.path)) && isProject(target) && adapters.has(topOf(target)),
      ),
    ).toEqual([]);
  });

  it("serve/ stands on other folders' public entries only (index.ts, ports, top-level modules), never on web/", () => {
    const publicEntry = (target: string) =>
      !target.includes("/") || target.endsWith("/index.ts") || topOf(target) === "ports";
    expect(
      violations(
        (file, target) =>
          topOf(file.path) === "serve" &&
          isProject(target) &&
          topOf(target) !== "serve" &&
          (!publicEntry(target) || topOf(target) === "web"),
      ),
    ).toEqual([]);
  });

  it("the roles do not import the validation layer sideways", () => {
    expect(
      violations(
        (file, target) =>
          (topOf(file.path) === "builtin" || topOf(file.path) === "agent") && topOf(target) === "validation",
      ),
    ).toEqual([]);
  });

  it("the artifact layer is pure: no file system, process or network modules", () => {
    const io = /^node:(fs|fs\/promises|child_process|net|http|https|os)$/;
    expect(violations((file, target) => topOf(file.path) === "artifact" && io.test(target))).toEqual([]);
  });

  it("has no import cycles, counting type-only imports", () => {
    const graph = new Map(files.map((file) => [file.path, file.imports.filter((i) => isProject(i.target))]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (path: string, trail: string[]) => {
      if (state.get(path) === "done") return;
      if (state.get(path) === "open") {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(" → "));
        return;
      }
      state.set(path, "open");
      for (const { target } of graph.get(path) ?? []) visit(target, [...trail, path]);
      state.set(path, "done");
    };
    for (const path of graph.keys()) visit(path, []);
    expect(cycles).toEqual([]);
  });
});

/** `field: … .default(LITERAL)` in the config schema: the field's name and its default as written. */
function schemaDefaults(): Map<string, Set<string>> {
  const schema = files.find((file) => file.path === "config/schema.ts");
  if (!schema) throw new Error("src/config/schema.ts is missing");
  const tree = ts.createSourceFile(schema.path, schema.text, ts.ScriptTarget.Latest, true);
  const defaults = new Map<string, Set<string>>();
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAssignment(node)) {
      const field = node.name.getText();
      const find = (inner: ts.Node) => {
        if (
          ts.isCallExpression(inner) &&
          ts.isPropertyAccessExpression(inner.expression) &&
          inner.expression.name.text === "default" &&
          inner.arguments.length === 1 &&
          isLiteral(inner.arguments[0]!)
        ) {
          const set = defaults.get(field) ?? new Set<string>();
          set.add(literalText(inner.arguments[0]!));
          defaults.set(field, set);
        }
        if (!ts.isPropertyAssignment(inner) || inner === node) ts.forEachChild(inner, find);
      };
      find(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return defaults;
}

function isLiteral(node: ts.Node): boolean {
  return (
    ts.isNumericLiteral(node) ||
    ts.isStringLiteral(node) ||
    node.kind === ts.SyntaxKind.TrueKeyword ||
    node.kind === ts.SyntaxKind.FalseKeyword
  );
}

function literalText(node: ts.Node): string {
  return ts.isNumericLiteral(node)
    ? String(Number(node.text.replaceAll("_", "")))
    : node.getText().replaceAll("'", '"');
}

/** Same field name and value as a schema default, but not that setting: each entry says why. */
const DEFAULT_EXCEPTIONS: Record<string, string> = {
  "builtin/policy.ts testTimeoutMs":
    "the builtin repair solver's own limit per test run (a library option, not a configuration field)",
};

describe("defaults", () => {
  it("each configuration default is written once, in the schema: no `field: … ?? <the same default>` elsewhere", () => {
    const defaults = schemaDefaults();
    expect(defaults.get("maxTurns")).toEqual(new Set(["64"]));
    const repeated: string[] = [];
    for (const file of files.filter((entry) => topOf(entry.path) !== "config")) {
      const tree = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (ts.isPropertyAssignment(node) && defaults.has(node.name.getText())) {
          let value: ts.Expression = node.initializer;
          while (
            ts.isBinaryExpression(value) &&
            value.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken
          ) {
            const exempt = `${file.path} ${node.name.getText()}` in DEFAULT_EXCEPTIONS;
            if (
              !exempt &&
              isLiteral(value.right) &&
              defaults.get(node.name.getText())!.has(literalText(value.right))
            ) {
              const line = tree.getLineAndCharacterOfPosition(node.getStart()).line + 1;
              repeated.push(`${file.path}:${line} ${node.getText()}`);
            }
            value = value.left;
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(tree);
    }
    expect(repeated).toEqual([]);
  });
});

describe("one outcome discriminant", () => {
  it("an outcome is a union tagged by `status`, never by a boolean `ok` or `passed`", () => {
    const found: string[] = [];
    for (const file of files) {
      const tree = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (
          ts.isPropertySignature(node) &&
          ["ok", "passed"].includes(node.name.getText()) &&
          node.type &&
          ["true", "false", "boolean"].includes(node.type.getText())
        )
          found.push(
            `${file.path}:${tree.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText()}`,
          );
        ts.forEachChild(node, visit);
      };
      visit(tree);
    }
    expect(found).toEqual([]);
  });
});

describe("help defaults", () => {
  it("the CLI's help texts read defaults from the schema (configDefault), never spell them: no `[8]` in a literal", () => {
    const spelt = /\[(\d[\d_.,]*|on|off|auto|native|hermes|openai-chat)[\];]/;
    const found: string[] = [];
    for (const file of files.filter((entry) => topOf(entry.path) === "cli")) {
      const tree = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        // Literal text only: a template's substitutions (`[${configDefault("seed")}]`) are read, not spelt.
        if (
          (ts.isStringLiteral(node) ||
            ts.isNoSubstitutionTemplateLiteral(node) ||
            ts.isTemplateLiteralToken(node)) &&
          spelt.test(node.text)
        )
          found.push(
            `${file.path}:${tree.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText()}`,
          );
        ts.forEachChild(node, visit);
      };
      visit(tree);
    }
    expect(found).toEqual([]);
  });
});

describe("one definition", () => {
  it("whether a step is finished is asked through selfplay's isFinished, not spelt out again", () => {
    const spelt = /state [!=]== "(done|failed)" (\|\||&&) \w+\.state [!=]== "(done|failed)"/;
    expect(
      files
        .filter((file) => file.path !== "selfplay/step-state.ts" && spelt.test(file.text))
        .map((file) => file.path),
    ).toEqual([]);
  });
});

describe("one run lifecycle", () => {
  it("other folders reach selfplay/ only through its public entry (selfplay/index.ts)", () => {
    expect(
      violations(
        (file, target) =>
          topOf(file.path) !== "selfplay" && topOf(target) === "selfplay" && target !== "selfplay/index.ts",
      ),
    ).toEqual([]);
  });

  it("a run is opened (restarted, created, its environments recorded) only in selfplay/run-lifecycle.ts", () => {
    const opening = /\.(restartRun|createRun|reactivateEnvironments|upsertEnvironment)\(/;
    expect(
      files
        .filter((file) => !["store", "ports"].includes(topOf(file.path)))
        .filter((file) => file.path !== "selfplay/run-lifecycle.ts" && opening.test(file.text))
        .map((file) => file.path),
    ).toEqual([]);
  });

  it("a self-play step is chosen and inserted only in selfplay/step-choice.ts", () => {
    expect(
      files
        .filter((file) => !["store", "ports"].includes(topOf(file.path)))
        .filter((file) => file.path !== "selfplay/step-choice.ts" && /\.insertStep\(/.test(file.text))
        .map((file) => file.path),
    ).toEqual([]);
  });
});

describe("one policy configuration", () => {
  it("a model client is chosen in one table (compose/policy.ts's MODEL_CLIENTS)", () => {
    expect(
      files
        .filter((file) => topOf(file.path) !== "model" && file.path !== "compose/policy.ts")
        .filter((file) => /\bcreate(ModelClient|TitoClient)\(/.test(file.text))
        .map((file) => file.path),
    ).toEqual([]);
  });

  it("the inference kinds and call formats are listed once, in config/policy-kinds.ts", () => {
    const kinds = /"(openai-chat|vllm|sglang)",\s*"(openai-chat|vllm|sglang)"/;
    const formats = /"(native|hermes|json|text)",\s*"(native|hermes|json|text)"/;
    expect(
      files
        .filter((file) => file.path !== "config/policy-kinds.ts")
        .filter((file) => kinds.test(file.text) || formats.test(file.text))
        .map((file) => file.path),
    ).toEqual([]);
  });
});

describe("the concept map in docs/architecture.md", () => {
  it("names only files that exist", () => {
    const doc = readFileSync(join(root, "docs/architecture.md"), "utf8");
    const section = doc.split("\n## Where each concept lives\n")[1]?.split("\n## ")[0];
    expect(section, "docs/architecture.md has a section 'Where each concept lives'").toBeDefined();
    const named = [...(section ?? "").matchAll(/`((?:src|python)\/[^`]+\.(?:ts|py))`/g)].map(
      (match) => match[1]!,
    );
    expect(named.length).toBeGreaterThan(40);
    expect(named.filter((path) => !existsSync(join(root, path)))).toEqual([]);
  });
});

describe("size", () => {
  it(`no production file is over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((file) => ({ path: file.path, lines: file.text.split("\n").length - 1 }))
      .filter(({ path, lines }) => lines > MAX_FILE_LINES && !(path in LONG_FILE_EXCEPTIONS))
      .map(({ path, lines }) => `${path}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const file of files) {
      const tree = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && "body" in node && node.body) {
          const first = tree.getLineAndCharacterOfPosition(node.getStart()).line;
          const last = tree.getLineAndCharacterOfPosition(node.getEnd()).line;
          const name = `${file.path}:${first + 1} ${functionName(node)}`;
          if (last - first + 1 > MAX_FUNCTION_LINES && !(name in LONG_FUNCTION_EXCEPTIONS))
            long.push(`${name}: ${last - first + 1} lines`);
        }
        ts.forEachChild(node, visit);
      };
      visit(tree);
    }
    expect(long).toEqual([]);
  });
});

function functionName(node: ts.SignatureDeclaration): string {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText();
  return "<anonymous>";
}
