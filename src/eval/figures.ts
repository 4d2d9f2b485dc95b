// The pure statistics of an evaluation: Wilson score intervals, the unbiased pass@k estimator, McNemar's
// exact test on paired attempts and a seeded paired bootstrap of a difference in resolve rate.

/** The normal quantile of a two-sided 95 % interval. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval of `successes` out of `trials` (95 % by default); [0, 1] when there are no trials. */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Interval {
  checkCounts(successes, trials);
  if (trials === 0) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // Clamp rounding noise: the interval always holds the point estimate and stays inside [0, 1].
  return { low: Math.max(0, Math.min(p, center - half)), high: Math.min(1, Math.max(p, center + half)) };
}

/**
 * Unbiased pass@k (Chen et al. 2021) of one task with `n` attempts of which `c` resolved:
 * 1 − C(n−c, k) / C(n, k), computed as a product so large n does not overflow.
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(c, n);
  if (!Number.isInteger(k) || k < 1 || k > n)
    throw new RangeError(`pass@k needs 1 ≤ k ≤ n (n = ${n}), got k = ${k}`);
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/** Mean pass@k over tasks, each given as [attempts, resolved]; every task must have at least k attempts. */
export function meanPassAtK(tasks: readonly (readonly [number, number])[], k: number): number {
  if (tasks.length === 0) return 0;
  return tasks.reduce((sum, [n, c]) => sum + passAtK(n, c, k), 0) / tasks.length;
}

/**
 * McNemar's exact test on paired binary outcomes: `onlyA` pairs A resolved and B did not, `onlyB` the
 * reverse. Two-sided p-value of the binomial test of the discordant pairs against 1/2.
 */
export function mcnemarExact(onlyA: number, onlyB: number): number {
  checkCounts(0, onlyA);
  checkCounts(0, onlyB);
  const discordant = onlyA + onlyB;
  if (discordant === 0) return 1;
  const smaller = Math.min(onlyA, onlyB);
  // Sum of binomial probabilities in log space, so hundreds of pairs stay exact enough.
  let tail = 0;
  for (let i = 0; i <= smaller; i++) tail += Math.exp(logChoose(discordant, i) - discordant * Math.LN2);
  return Math.min(1, 2 * tail);
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
}

/**
 * Percentile interval (95 %) of the mean of paired per-task differences, by resampling tasks with
 * replacement; seeded, so the same figures give the same interval.
 */
export function pairedBootstrap(differences: readonly number[], options: BootstrapOptions = {}): Interval {
  const n = differences.length;
  if (n === 0) return { low: 0, high: 0 };
  const resamples = options.resamples ?? 10_000;
  const random = mulberry32(options.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += differences[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  return { low: quantile(means, 0.025), high: quantile(means, 0.975) };
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i);
  return sum;
}

function checkCounts(successes: number, trials: number): void {
  if (!Number.isInteger(trials) || trials < 0 || !Number.isInteger(successes) || successes < 0)
    throw new RangeError(`counts must be non-negative integers, got ${successes} of ${trials}`);
  if (successes > trials) throw new RangeError(`${successes} successes out of only ${trials} trials`);
}
