/**
 * The main loop of a keeper process: calls `tick` every `pollIntervalMs`, survives a tick that throws, and shuts
 * down gracefully on SIGINT/SIGTERM or `stop()`: the current tick finishes, `onStop` runs (e.g. waiting for the
 * transactions in flight), then `done` resolves. A second signal exits at once. Unhandled rejections and
 * uncaught exceptions log at fatal level and exit non-zero: after one, the process state is not trustworthy.
 */
import type { Logger } from "pino";

export interface RunKeeperOptions {
  name: string;
  logger: Logger;
  /** One pass of the keeper's work; a throw is logged and the loop goes on. */
  tick: () => Promise<void>;
  /** Pause between the end of one tick and the start of the next. */
  pollIntervalMs: number;
  /** Runs after the last tick, before `done` resolves (e.g. `() => txSender.waitIdle()`). */
  onStop?: () => Promise<void>;
  /** Install SIGINT/SIGTERM and fatal-error handlers on `process` (default true; tests pass false). */
  installProcessHandlers?: boolean;
  /** Longest wait for the current tick plus `onStop` after a stop request; then `done` resolves unclean. */
  shutdownTimeoutMs?: number;
  /** Injected for tests; defaults to process.exit. */
  exit?: (code: number) => void;
  now?: () => number;
}

/** Loop figures, e.g. for the status endpoint. */
export interface KeeperLoopStats {
  ticks: number;
  tickErrors: number;
  /** When the last tick ended (epoch ms), whether it threw or not. */
  lastTickAtMs: number | undefined;
  /** When the last tick ended without throwing (epoch ms). */
  lastSuccessfulTickAtMs: number | undefined;
  /** Milliseconds since the last tick ended; undefined before the first. */
  lastTickAgeMs: number | undefined;
  stopping: boolean;
}

/** How the loop ended. */
export interface KeeperStopReport {
  /** `signal` for SIGINT/SIGTERM, otherwise the reason passed to `stop`. */
  reason: string;
  ticks: number;
  tickErrors: number;
  /** False when the shutdown timed out or `onStop` threw. */
  clean: boolean;
}

/** A running keeper loop. */
export interface KeeperHandle {
  /** Resolves once the loop has stopped and `onStop` has run. Never rejects. */
  readonly done: Promise<KeeperStopReport>;
  /** Requests a graceful stop and returns `done`. Idempotent. */
  stop(reason?: string): Promise<KeeperStopReport>;
  stats(): KeeperLoopStats;
}

/** Exit codes by convention: 128 + signal number. */
const SIGNAL_EXIT_CODES: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

const describeError = (error: unknown) =>
  error instanceof Error ? { err: error.message, stack: error.stack, name: error.name } : { err: String(error) };

/** A process-level handler for `unhandledRejection`/`uncaughtException`: logs at fatal level, then exits 1. */
export function createFatalHandler(
  logger: Logger,
  exit: (code: number) => void,
  event: string,
): (error: unknown) => void {
  return (error: unknown) => {
    logger.fatal({ event, ...describeError(error) }, `${event}; exiting`);
    logger.flush?.();
    exit(1);
  };
}

/** Starts the keeper loop; see the module comment. The first tick starts at once. */
export function runKeeper(options: RunKeeperOptions): KeeperHandle {
  const { logger, tick, pollIntervalMs } = options;
  const now = options.now ?? Date.now;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  const stats: Omit<KeeperLoopStats, "lastTickAgeMs"> = {
    ticks: 0,
    tickErrors: 0,
    lastTickAtMs: undefined,
    lastSuccessfulTickAtMs: undefined,
    stopping: false,
  };
  let stopReason = "stop";
  let wake: (() => void) | undefined;
  let requestStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = async (): Promise<void> => {
    while (!stats.stopping) {
      try {
        await tick();
        stats.lastSuccessfulTickAtMs = now();
      } catch (error) {
        stats.tickErrors++;
        logger.error({ ...describeError(error), tick: stats.ticks + 1 }, "tick failed; retrying next interval");
      }
      stats.ticks++;
      stats.lastTickAtMs = now();
      if (!stats.stopping) await pause(pollIntervalMs);
    }
  };

  const stop = (reason: string): void => {
    if (stats.stopping) return;
    stats.stopping = true;
    stopReason = reason;
    logger.info({ reason }, "stopping after the current tick");
    wake?.();
    requestStop();
  };

  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    if (stats.stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      exit(SIGNAL_EXIT_CODES[signal]);
      return;
    }
    stop("signal");
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  const onRejection = createFatalHandler(logger, exit, "unhandledRejection");
  const onException = createFatalHandler(logger, exit, "uncaughtException");
  const install = options.installProcessHandlers ?? true;
  if (install) {
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    process.on("unhandledRejection", onRejection);
    process.on("uncaughtException", onException);
  }
  const uninstall = () => {
    if (!install) return;
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  };

  const finish = async (loopDone: Promise<void>): Promise<boolean> => {
    await loopDone;
    if (!options.onStop) return true;
    try {
      await options.onStop();
      return true;
    } catch (error) {
      logger.error(describeError(error), "onStop failed");
      return false;
    }
  };

  logger.info({ keeper: options.name, pollIntervalMs }, `${options.name} started`);
  const loopDone = loop();
  const done = (async (): Promise<KeeperStopReport> => {
    await Promise.race([stopRequested, loopDone]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        logger.error({ shutdownTimeoutMs }, "shutdown timed out; giving up on the current tick and onStop");
        resolve(false);
      }, shutdownTimeoutMs);
      timer.unref();
    });
    const clean = await Promise.race([finish(loopDone), timedOut]);
    clearTimeout(timer);
    uninstall();
    const report = { reason: stopReason, ticks: stats.ticks, tickErrors: stats.tickErrors, clean };
    logger.info(report, `${options.name} stopped`);
    return report;
  })();

  return {
    done,
    stop: (reason = "stop") => {
      stop(reason);
      return done;
    },
    stats: () => ({
      ...stats,
      lastTickAgeMs: stats.lastTickAtMs === undefined ? undefined : now() - stats.lastTickAtMs,
    }),
  };
}
