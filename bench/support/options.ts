// Command-line options of the benchmarks.

/** The positive integer after `name` in `args`, or `fallback` when the option is absent. */
export function positiveOption(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} needs a positive integer, got ${args[index + 1]}`);
  return value;
}
