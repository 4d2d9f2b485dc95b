// Structured logs to stderr (results go to stdout). Level from SWE_SELFPLAY_LOG: debug|info|warn|error|silent.
// A command may route them to a file (`logToFile`): then the file gets every line at that level and the
// terminal only warnings and errors, unless SWE_SELFPLAY_LOG asks for more there.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

function configuredLevel(): number | undefined {
  const configured = process.env.SWE_SELFPLAY_LOG as LogLevel | "silent" | undefined;
  return configured ? ORDER[configured] : undefined;
}

function threshold(): number {
  return configuredLevel() ?? ORDER.info;
}

/** Where lines go besides stderr: one file at a time, opened for appending. */
let file: { descriptor: number; path: string } | null = null;

/**
 * Appends every log line at the configured level (info by default) to `path` until the returned function is
 * called; meanwhile stderr shows only warnings and errors unless SWE_SELFPLAY_LOG names a level.
 */
export function logToFile(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  const opened = { descriptor: openSync(path, "a"), path };
  file = opened;
  return () => {
    if (file === opened) file = null;
    closeSync(opened.descriptor);
  };
}

function terminalThreshold(): number {
  return file ? (configuredLevel() ?? ORDER.warn) : threshold();
}

function format(fields: Record<string, unknown> | undefined): string {
  if (!fields) return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = typeof value === "string" ? value : JSON.stringify(value);
    parts.push(`${key}=${/\s/.test(text) ? JSON.stringify(text) : text}`);
  }
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

export function createLogger(component: string): Logger {
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    const toTerminal = ORDER[level] >= terminalThreshold();
    const toFile = file !== null && ORDER[level] >= Math.min(threshold(), ORDER.info);
    if (!toTerminal && !toFile) return;
    const time = new Date().toISOString().slice(11, 23);
    const line = `${time} ${level.padEnd(5)} [${component}] ${message}${format(fields)}\n`;
    if (toTerminal) process.stderr.write(line);
    if (toFile && file) writeSync(file.descriptor, line);
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    child: (name) => createLogger(`${component}.${name}`),
  };
}
