// Small seeded PRNG (mulberry32) so proposer and solver runs are reproducible from request.seed.

export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). */
  integer(bound: number): number;
  /** One element, or undefined for an empty list. */
  pick<T>(items: readonly T[]): T | undefined;
  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** A new independent stream derived from this seed and a label, so adding draws in one place does not shift another. */
  fork(label: string): SeededRandom;
}

function hashString(text: string, seed: number): number {
  let hash = seed ^ 0x9e3779b9;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x85ebca6b);
    hash ^= hash >>> 13;
  }
  return hash >>> 0;
}

export function createSeededRandom(seed: number): SeededRandom {
  const initial = hashString("seed", Math.trunc(seed) >>> 0);
  let state = initial;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const integer = (bound: number): number => Math.floor(next() * bound);
  return {
    next,
    integer,
    pick: (items) => (items.length === 0 ? undefined : items[integer(items.length)]),
    shuffle: (items) => {
      const copy = [...items];
      for (let index = copy.length - 1; index > 0; index--) {
        const other = integer(index + 1);
        [copy[index], copy[other]] = [copy[other]!, copy[index]!];
      }
      return copy;
    },
    fork: (label) => createSeededRandom(hashString(label, initial)),
  };
}
