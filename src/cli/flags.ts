// Reading command-line flag values, for every command: numbers, integers, on/off, repeatable flags.
// A bad value is an InputError naming the flag and the value.
import { InputError } from "../errors.js";

/** Commander's accumulator for a repeatable flag. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A finite number, or undefined when the flag is absent. */
export function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number))
    throw new InputError("bad-flag", `${flag} expects a number, got "${value}"`);
  return number;
}

/** An integer above 0, or undefined when the flag is absent. */
export function positiveIntegerFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new InputError("bad-flag", `${flag} expects a positive integer, got "${value}"`);
  return number;
}

/** An integer of 0 or more; `fallback` when the flag is absent. */
export function integerFlag(value: string | undefined, flag: string, fallback: number): number;
export function integerFlag(value: string | undefined, flag: string): number | undefined;
export function integerFlag(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === "" || !Number.isInteger(number) || number < 0)
    throw new InputError("bad-flag", `${flag} expects a non-negative integer, got "${value}"`);
  return number;
}

/** `on` or `off` as a boolean, or undefined when the flag is absent. */
export function onOffFlag(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "on" || value === "off") return value === "on";
  throw new InputError("bad-flag", `${flag} expects on or off, got "${value}"`);
}
