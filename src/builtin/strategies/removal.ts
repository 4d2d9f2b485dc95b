// Removal strategy: stub whole function bodies (raise / throw / neutral return) or drop blocks, so tests
// fail at run time while every module still imports.
import type { FunctionInfo } from "../code-model/index.js";
import { type Candidate, siteOf } from "./candidate.js";
import type { CodeBase } from "./code-base.js";
import { exercisedFunctions } from "./code-base.js";
import { abbreviate, isPython, removalOfStatement } from "./mutation-operators.js";
import type { SeededRandom } from "./seeded-random.js";
import { indentationAt } from "./text-edits.js";

const DOCSTRING = /^[rRuUbB]?("""|'''|"|')/;

/** The body of `fn` replaced by a stub; null when the body is too small to be worth removing. */
export function stubbedBody(
  fn: FunctionInfo,
  text: string,
  style: "raise" | "neutral",
): { start: number; end: number; replacement: string } | null {
  const topLevel = fn.statements.filter((statement) => statement.depth === 0);
  const body = fn.body;
  if (isPython(fn.language)) {
    const first = topLevel[0];
    const keepDocstring = first !== undefined && DOCSTRING.test(first.span.text);
    const rest = keepDocstring ? topLevel.slice(1) : topLevel;
    if (rest.length === 0) return null;
    const onlyStatement = rest.length === 1 ? rest[0]!.span.text.trim() : "";
    if (/^(pass|\.\.\.|raise NotImplementedError.*)$/.test(onlyStatement)) return null;
    const start = rest[0]!.span.start;
    const replacement = style === "raise" ? "raise NotImplementedError" : "return None";
    return { start, end: body.end, replacement };
  }
  if (topLevel.length === 0 && body.text.startsWith("{")) return null;
  const indent = indentationAt(text, fn.span.start);
  const inner = `${indent}  `;
  let statement: string;
  if (fn.language === "go") statement = 'panic("not implemented")';
  else if (fn.language === "rust") statement = "unimplemented!()";
  else statement = style === "raise" ? 'throw new Error("not implemented");' : "return undefined;";
  if (!body.text.startsWith("{"))
    return { start: body.start, end: body.end, replacement: `{ ${statement} }` };
  return { start: body.start, end: body.end, replacement: `{\n${inner}${statement}\n${indent}}` };
}

function functionLabel(fn: FunctionInfo): string {
  return `${fn.file}:${fn.qualifiedName}`;
}

/** Single-file removal candidates in seeded order, functions the tests name first. */
export function removalCandidates(codeBase: CodeBase, random: SeededRandom): Candidate[] {
  const texts = new Map(codeBase.code.map((file) => [file.path, file.text]));
  const stubs: { candidate: Candidate; weight: number }[] = [];
  const blocks: { candidate: Candidate; weight: number }[] = [];
  for (const { fn, weight } of exercisedFunctions(codeBase)) {
    const text = texts.get(fn.file);
    if (text === undefined) continue;
    const style = random.next() < 0.75 ? "raise" : "neutral";
    const stub = stubbedBody(fn, text, style);
    if (stub) {
      stubs.push({
        weight,
        candidate: {
          strategy: "removal",
          description: `body of ${functionLabel(fn)} replaced by ${style === "raise" ? "a stub that raises" : "a neutral return"}`,
          change: { kind: "files", files: [{ file: fn.file, original: text, edits: [stub] }] },
          operators: [style === "raise" ? "stub-raise" : "stub-neutral"],
          site: siteOf(fn, weight),
        },
      });
    }
    for (const statement of fn.statements) {
      if ((statement.kind !== "if" && statement.kind !== "loop") || statement.depth > 1) continue;
      if (statement.span.endLine - statement.span.startLine < 1) continue; // a one-line block is a direct mutation
      const removal = removalOfStatement(statement, fn.language);
      if (!removal) continue;
      blocks.push({
        weight,
        candidate: {
          strategy: "removal",
          description: `${statement.kind} block \`${abbreviate(statement.span.text, 30)}\` removed from ${functionLabel(fn)} (line ${statement.span.startLine})`,
          change: { kind: "files", files: [{ file: fn.file, original: text, edits: [removal] }] },
          operators: ["remove-block"],
          site: siteOf(fn, weight),
        },
      });
    }
  }
  // Mostly whole bodies, some blocks: interleave two shuffled queues, named functions first within each.
  const order = (list: { candidate: Candidate; weight: number }[]) =>
    random
      .shuffle(list)
      .sort((a, b) => b.weight - a.weight)
      .map((entry) => entry.candidate);
  const stubQueue = order(stubs);
  const blockQueue = order(blocks);
  const result: Candidate[] = [];
  while (stubQueue.length > 0 || blockQueue.length > 0) {
    const fromStubs = blockQueue.length === 0 || (stubQueue.length > 0 && random.next() < 0.7);
    result.push((fromStubs ? stubQueue : blockQueue).shift()!);
  }
  return result;
}
