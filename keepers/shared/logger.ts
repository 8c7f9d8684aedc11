/** Structured JSON logs (pino), one child logger per keeper and per feed or account. */
import pino from "pino";
import type { Logger } from "pino";

export type { Logger };

/** A logger writing JSON lines to stdout at `level` (or `silent`). */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { keeper: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
