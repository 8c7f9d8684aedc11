/**
 * A keeper's status endpoint (node:http): GET /health for liveness probes, GET /metrics in Prometheus text
 * format for scraping. Figures are collected afresh on every request from a `collect` callback.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KeeperError } from "../shared/errors";

/** The figures a keeper reports on every request. */
export interface KeeperMetrics {
  /** Blocks between the chain head and the last block the keeper has processed. */
  headLagBlocks: number;
  /** Work items waiting (accounts to check, orders to settle...). */
  queueDepth: number;
  inFlightTxs: number;
  signerBalanceWei: bigint;
  /** Milliseconds since the main loop last finished a tick; undefined before the first tick. */
  lastTickAgeMs: number | undefined;
  /** Monotonic counters (e.g. TxSender.counters()); exported as `<snake_case_name>_total`. */
  counters?: Record<string, number>;
}

export interface StatusServerOptions {
  /** Keeper name, the `keeper` label of every metric. */
  keeper: string;
  /** 0 binds an ephemeral port (see `StatusServer.port`). */
  port: number;
  /** Interface to bind; "0.0.0.0" for probes from outside the host or container. */
  host?: string;
  collect: () => KeeperMetrics | Promise<KeeperMetrics>;
  /** /health turns 503 above this head lag. */
  maxHeadLagBlocks?: number;
  /** /health turns 503 when the loop has not ticked for this long (or never, after `startupGraceMs`). */
  maxTickAgeMs?: number;
  /** Time after start during which a missing first tick is still healthy. */
  startupGraceMs?: number;
  now?: () => number;
}

/** A running status server. */
export interface StatusServer {
  /** The bound port (the ephemeral one when started with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** The status server could not bind its port. */
export class StatusServerError extends KeeperError {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

interface Gauge {
  name: string;
  help: string;
  value: number | bigint | undefined;
}

/** The verdict of /health: healthy, or the reasons it is not. */
export function assessHealth(
  metrics: KeeperMetrics,
  limits: { maxHeadLagBlocks: number; maxTickAgeMs: number; uptimeMs: number; startupGraceMs: number },
): string[] {
  const reasons: string[] = [];
  if (metrics.headLagBlocks > limits.maxHeadLagBlocks) {
    reasons.push(`head lag ${metrics.headLagBlocks} blocks > ${limits.maxHeadLagBlocks}`);
  }
  if (metrics.lastTickAgeMs === undefined) {
    if (limits.uptimeMs > limits.startupGraceMs) reasons.push(`no tick since start ${limits.uptimeMs} ms ago`);
  } else if (metrics.lastTickAgeMs > limits.maxTickAgeMs) {
    reasons.push(`last tick ${metrics.lastTickAgeMs} ms ago > ${limits.maxTickAgeMs} ms`);
  }
  return reasons;
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** `fooBar-baz` → `foo_bar_baz`, a valid Prometheus metric name. */
export function toMetricName(name: string): string {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^a-zA-Z0-9_:]/g, "_")
    .toLowerCase();
  return /^[a-z_:]/.test(snake) ? snake : `_${snake}`;
}

/** Prometheus text exposition (format 0.0.4) of `metrics`, every sample labelled `keeper="<keeper>"`. */
export function renderPrometheus(keeper: string, metrics: KeeperMetrics): string {
  const label = `{keeper="${escapeLabel(keeper)}"}`;
  const gauges: Gauge[] = [
    {
      name: "head_lag_blocks",
      help: "Blocks between the chain head and the last processed block.",
      value: metrics.headLagBlocks,
    },
    { name: "queue_depth", help: "Work items waiting.", value: metrics.queueDepth },
    { name: "in_flight_txs", help: "Transactions being simulated, sent or awaited.", value: metrics.inFlightTxs },
    {
      name: "signer_balance_wei",
      help: "Native balance of the signing account, wei.",
      value: metrics.signerBalanceWei,
    },
    { name: "last_tick_age_ms", help: "Milliseconds since the main loop last ticked.", value: metrics.lastTickAgeMs },
  ];
  const lines: string[] = [];
  for (const gauge of gauges) {
    if (gauge.value === undefined) continue;
    lines.push(
      `# HELP ${gauge.name} ${gauge.help}`,
      `# TYPE ${gauge.name} gauge`,
      `${gauge.name}${label} ${gauge.value}`,
    );
  }
  for (const [counter, value] of Object.entries(metrics.counters ?? {})) {
    const base = toMetricName(counter).replace(/_total$/, "");
    lines.push(`# TYPE ${base}_total counter`, `${base}_total${label} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

function reply(response: ServerResponse, statusCode: number, contentType: string, body: string): void {
  response.writeHead(statusCode, { "content-type": contentType, "cache-control": "no-store" });
  response.end(body);
}

const jsonReplacer = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

/**
 * Starts the status server: GET /health (200 `{status:"ok"}` or 503 `{status:"unhealthy", reasons}`),
 * GET /metrics (Prometheus text), 405 for other methods on those paths, 404 elsewhere.
 * @throws StatusServerError when the port cannot be bound.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const now = options.now ?? Date.now;
  const startedAtMs = now();
  const limits = {
    maxHeadLagBlocks: options.maxHeadLagBlocks ?? 10,
    maxTickAgeMs: options.maxTickAgeMs ?? 60_000,
    startupGraceMs: options.startupGraceMs ?? 60_000,
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? "/", "http://status").pathname;
    if (path !== "/health" && path !== "/metrics") return reply(response, 404, "text/plain", "not found\n");
    if (request.method !== "GET") return reply(response, 405, "text/plain", "method not allowed\n");
    let metrics: KeeperMetrics;
    try {
      metrics = await options.collect();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (path === "/metrics") return reply(response, 500, "text/plain", `collect failed: ${message}\n`);
      return reply(response, 503, "application/json", JSON.stringify({ status: "unhealthy", reasons: [message] }));
    }
    if (path === "/metrics")
      return reply(response, 200, "text/plain; version=0.0.4", renderPrometheus(options.keeper, metrics));
    const reasons = assessHealth(metrics, { ...limits, uptimeMs: now() - startedAtMs });
    const body = {
      status: reasons.length === 0 ? "ok" : "unhealthy",
      keeper: options.keeper,
      ...(reasons.length > 0 ? { reasons } : {}),
      headLagBlocks: metrics.headLagBlocks,
      queueDepth: metrics.queueDepth,
      inFlightTxs: metrics.inFlightTxs,
      signerBalanceWei: metrics.signerBalanceWei,
      lastTickAgeMs: metrics.lastTickAgeMs ?? null,
    };
    reply(response, reasons.length === 0 ? 200 : 503, "application/json", JSON.stringify(body, jsonReplacer));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, "text/plain", `internal error: ${String(error)}\n`);
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new StatusServerError(`cannot listen on port ${options.port}`, error)));
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
