// Fault localisation from test output: stack frames (Python tracebacks, pytest locations, Node stack frames)
// that point into code files, innermost first; pure text parsing.

interface StackFrame {
  /** Repository-relative path. */
  file: string;
  line: number;
  /** 0 for the innermost frame of its trace, 1 for its caller, and so on. */
  depth: number;
}

export interface SuspiciousLine {
  file: string;
  line: number;
  /** Higher is more suspicious: frames seen more often and closer to the failure weigh more. */
  score: number;
}

const PYTHON_TRACEBACK = /^\s*File "([^"]+)", line (\d+)/;
const PYTEST_LOCATION = /^([^\s:"'()]+\.py):(\d+):/;
// Node prints "at fn (path:line:column)"; its TAP reporter prints the same frames without "at ".
const NODE_FRAME = /^\s*(?:at )?(?:[^()]*\()?(?:file:\/\/)?([^\s()]+?):(\d+):\d+\)?\s*$/;
const NODE_LOCATION = /^\s*location: '(?:file:\/\/)?([^']+?):(\d+):\d+'/;

/** Turns a path printed by a test runner into a repository-relative path, or null if it is outside the repository. */
export function relativeToRepository(path: string, workdir: string): string | null {
  let candidate = path.trim();
  if (candidate.startsWith("file://")) candidate = candidate.slice("file://".length);
  const prefix = workdir.endsWith("/") ? workdir : `${workdir}/`;
  if (candidate.startsWith(prefix)) candidate = candidate.slice(prefix.length);
  else if (candidate.startsWith("/")) return null;
  candidate = candidate.replace(/^\.\//, "");
  if (candidate.startsWith("../") || candidate.startsWith("node:") || candidate.includes("node_modules/"))
    return null;
  if (candidate.includes("site-packages/") || candidate.includes("dist-packages/")) return null;
  if (candidate.startsWith("<")) return null;
  return candidate;
}

/**
 * Every stack frame in `output` that points into the repository, grouped into traces. Python prints a
 * trace outermost first, Node innermost first; depth is normalised so 0 is always the innermost frame.
 */
export function parseStackFrames(output: string, workdir: string): StackFrame[][] {
  const traces: StackFrame[][] = [];
  // A holder rather than a `let`, so the closures below and the loop see the same trace.
  const state: { current: { frames: StackFrame[]; innermostFirst: boolean } | null } = { current: null };
  const flush = () => {
    const current = state.current;
    state.current = null;
    if (!current || current.frames.length === 0) return;
    const ordered = current.innermostFirst ? current.frames : [...current.frames].reverse();
    traces.push(ordered.map((frame, depth) => ({ ...frame, depth })));
  };
  const add = (path: string, line: string, innermostFirst: boolean) => {
    const file = relativeToRepository(path, workdir);
    if (!state.current || state.current.innermostFirst !== innermostFirst) {
      flush();
      state.current = { frames: [], innermostFirst };
    }
    if (file) state.current.frames.push({ file, line: Number.parseInt(line, 10), depth: 0 });
  };
  for (const text of output.split("\n")) {
    const python = PYTHON_TRACEBACK.exec(text) ?? PYTEST_LOCATION.exec(text);
    if (python) {
      add(python[1]!, python[2]!, false);
      continue;
    }
    const node = NODE_FRAME.exec(text) ?? NODE_LOCATION.exec(text);
    if (node) {
      add(node[1]!, node[2]!, true);
      continue;
    }
    // Source lines, `E  ...` lines and separators stay inside a Python trace; a blank line after a Node
    // trace or a new pytest section ends it.
    if (/^(_{3,}|={3,}|-{3,})/.test(text) || state.current?.innermostFirst) flush();
  }
  flush();
  return traces;
}

/**
 * Lines of code files that appear in traces, scored: each trace adds 1/(1 + depth among code frames) to
 * a line, so the innermost code frame of each trace counts most.
 */
export function suspiciousLines(
  output: string,
  options: { workdir: string; isCodeFile(path: string): boolean },
): SuspiciousLine[] {
  const scores = new Map<string, SuspiciousLine>();
  for (const trace of parseStackFrames(output, options.workdir)) {
    const codeFrames = trace.filter((frame) => options.isCodeFile(frame.file));
    codeFrames.forEach((frame, index) => {
      const key = `${frame.file}:${frame.line}`;
      const entry = scores.get(key) ?? { file: frame.file, line: frame.line, score: 0 };
      entry.score += 1 / (1 + index);
      scores.set(key, entry);
    });
  }
  return [...scores.values()].sort(
    (a, b) => b.score - a.score || a.file.localeCompare(b.file) || a.line - b.line,
  );
}
