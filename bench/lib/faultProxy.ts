/**
 * A JSON-RPC HTTP proxy in front of an EIP-1193 provider (e.g. `hre.network.provider`) that injects faults, to test
 * and benchmark the keeper transport (keepers/runtime/rpc.ts) against an unreliable node.
 *
 * Each HTTP request (a single call or a batch) fails with probability `failureRate`, drawn from a seeded PRNG, with
 * a fault kind drawn uniformly from `faultKinds`:
 * - "timeout": forwards the calls (they take effect), then holds the answer `timeoutHoldMs` and sends it late
 *   (`timeoutMode` "late") or destroys the socket ("destroy");
 * - "malformed": forwards the calls, then sends the first half of the JSON body;
 * - "http429", "http502": an HTTP error with a text body, nothing forwarded;
 * - "rpc32000": a JSON-RPC error {code: -32000, message: "header not found"} per call, nothing forwarded;
 * - "reset": destroys the socket, nothing forwarded.
 * Requests whose calls are all of `exemptMethods` never fail (outages aside). Errors of the provider (a revert) are
 * answered as hardhat's own JSON-RPC server does: {code, message, data: {message, data: returnData, txHash}}.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The part of an EIP-1193 provider the proxy uses. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** A fault the proxy injects. */
export type FaultKind = "timeout" | "http429" | "http502" | "rpc32000" | "malformed" | "reset";

/** Every fault kind; the default `faultKinds`. */
export const FAULT_KINDS: readonly FaultKind[] = ["timeout", "http429", "http502", "rpc32000", "malformed", "reset"];

/** Settings of a FaultProxy. */
export interface FaultProxyOptions {
  /** Where calls are forwarded. */
  provider: Eip1193Provider;
  /** Probability that one HTTP request fails, 0..1 (default 0). */
  failureRate?: number;
  /** Seed of the PRNG that draws faults (default 1). */
  seed?: number;
  /** Fault kinds to draw from, uniformly (default all). */
  faultKinds?: readonly FaultKind[];
  /** How long a "timeout" fault holds the answer, ms (default 1,000). */
  timeoutHoldMs?: number;
  /** After the hold, send the answer ("late", default) or destroy the socket ("destroy"). */
  timeoutMode?: "late" | "destroy";
  /** Methods that never fail, except in an outage (default none). */
  exemptMethods?: readonly string[];
  /** How requests fail during an outage: connection reset (default) or HTTP 503. */
  outageMode?: "reset" | "http503";
  /** Called with every JSON-RPC call received, before faults are drawn (tracing; tests read ids). */
  onCall?: (call: unknown) => void;
}

/** Counters of a FaultProxy. */
export interface FaultProxyStats {
  /** HTTP requests received. */
  requests: number;
  /** JSON-RPC calls received (a batch counts each call). */
  rpcCalls: number;
  /** Calls forwarded to the provider. */
  forwarded: number;
  forwardedByMethod: Record<string, number>;
  /** Injected faults by kind. */
  faults: Record<FaultKind, number>;
  /** Requests refused during an outage. */
  outageRejections: number;
}

interface JsonRpcCall {
  id: unknown;
  method: string;
  params?: unknown[];
}

type JsonRpcAnswer =
  | { jsonrpc: "2.0"; id: unknown; result: unknown }
  | { jsonrpc: "2.0"; id: unknown; error: { code: number; message: string; data?: unknown } };

/** JSON-RPC codes of hardhat's server. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INTERNAL_ERROR = -32603;

/** An HTTP JSON-RPC server on 127.0.0.1 (ephemeral port) forwarding to a provider, with injected faults. */
export class FaultProxy {
  private readonly random: () => number;
  private readonly heldTimers = new Set<NodeJS.Timeout>();
  private failureRate: number;
  private outage = false;
  private counters = emptyStats();

  private constructor(
    private readonly server: Server,
    private readonly options: FaultProxyOptions,
  ) {
    this.random = createSeededRandom(options.seed ?? 1);
    this.failureRate = checkedRate(options.failureRate ?? 0);
  }

  /** Starts a proxy listening on 127.0.0.1 with an ephemeral port. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    if (options.faultKinds !== undefined && options.faultKinds.length === 0) {
      throw new RangeError("faultKinds must not be empty");
    }
    const server = createServer();
    const proxy = new FaultProxy(server, options);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      proxy.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`proxy error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** The proxy's URL, e.g. http://127.0.0.1:54321. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** A copy of the counters. */
  stats(): FaultProxyStats {
    return structuredClone(this.counters);
  }

  /** Sets every counter to zero. */
  resetStats(): void {
    this.counters = emptyStats();
  }

  /** Starts (true) or ends (false) an outage: while it lasts every request fails (`outageMode`). */
  setOutage(on: boolean): void {
    this.outage = on;
  }

  /** Changes the probability that one request fails, 0..1. */
  setFailureRate(rate: number): void {
    this.failureRate = checkedRate(rate);
  }

  /** Stops listening, drops open connections and held answers. */
  async close(): Promise<void> {
    for (const timer of this.heldTimers) clearTimeout(timer);
    this.heldTimers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  /** Answers one HTTP request: outage, parse error, injected fault, or the provider's answers. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests += 1;
    const text = await readBody(req);
    if (this.outage) {
      this.counters.outageRejections += 1;
      if ((this.options.outageMode ?? "reset") === "reset") req.socket.destroy();
      else sendText(res, 503, "Service Unavailable");
      return;
    }
    if (req.method !== "POST") {
      sendText(res, 405, "Method Not Allowed");
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      sendJson(res, errorAnswer(null, PARSE_ERROR, `Parse error: ${(error as Error).message}`));
      return;
    }
    const calls = Array.isArray(body) ? body : [body];
    this.counters.rpcCalls += calls.length;
    for (const call of calls) this.options.onCall?.(call);
    const fault = this.drawFault(calls);
    if (fault !== undefined) this.counters.faults[fault] += 1;
    switch (fault) {
      case "reset":
        req.socket.destroy();
        return;
      case "http429":
        sendText(res, 429, "Too Many Requests");
        return;
      case "http502":
        sendText(res, 502, "<html><body>502 Bad Gateway</body></html>");
        return;
      case "rpc32000": {
        const answers = calls.map((call) => errorAnswer(idOf(call), -32000, "header not found"));
        sendJson(res, Array.isArray(body) ? answers : answers[0]);
        return;
      }
      case "malformed": {
        const json = JSON.stringify(await this.forward(body));
        sendRaw(res, 200, "application/json", json.slice(0, Math.max(1, Math.floor(json.length / 2))));
        return;
      }
      case "timeout":
        await this.answerLate(req, res, await this.forward(body));
        return;
      case undefined:
        sendJson(res, await this.forward(body));
        return;
    }
  }

  /** The fault for a request of `calls`, or undefined; exempt requests draw nothing from the PRNG. */
  private drawFault(calls: unknown[]): FaultKind | undefined {
    const exempt = this.options.exemptMethods ?? [];
    if (calls.every((call) => isRecord(call) && typeof call.method === "string" && exempt.includes(call.method))) {
      return undefined;
    }
    if (this.random() >= this.failureRate) return undefined;
    const kinds = this.options.faultKinds ?? FAULT_KINDS;
    return kinds[Math.floor(this.random() * kinds.length)];
  }

  /** Holds `answer` `timeoutHoldMs`, then sends it or destroys the socket (`timeoutMode`). */
  private async answerLate(req: IncomingMessage, res: ServerResponse, answer: unknown): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.heldTimers.delete(timer);
        resolve();
      }, this.options.timeoutHoldMs ?? 1_000);
      this.heldTimers.add(timer);
    });
    if (req.socket.destroyed) return;
    if ((this.options.timeoutMode ?? "late") === "destroy") req.socket.destroy();
    else sendJson(res, answer);
  }

  /** The provider's answers to a single call or a batch (same shape). */
  private async forward(body: unknown): Promise<JsonRpcAnswer | JsonRpcAnswer[]> {
    if (Array.isArray(body)) return Promise.all(body.map((call) => this.forwardOne(call)));
    return this.forwardOne(body);
  }

  /** Forwards one call; a provider error becomes a JSON-RPC error shaped like hardhat's server's. */
  private async forwardOne(call: unknown): Promise<JsonRpcAnswer> {
    if (!isJsonRpcCall(call)) return errorAnswer(idOf(call), INVALID_REQUEST, "Invalid request");
    this.counters.forwarded += 1;
    this.counters.forwardedByMethod[call.method] = (this.counters.forwardedByMethod[call.method] ?? 0) + 1;
    try {
      const result = await this.options.provider.request({ method: call.method, params: call.params });
      return { jsonrpc: "2.0", id: call.id, result: result ?? null };
    } catch (error) {
      return providerErrorAnswer(call.id, error);
    }
  }
}

/**
 * A deterministic PRNG (mulberry32) returning numbers in [0, 1); the same seed gives the same sequence.
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The JSON-RPC error answer for a provider error, as hardhat's JSON-RPC server builds it (jsonrpc/handler.ts):
 * the error's numeric `code` (else -32603), its message, and `data: {message, data: returnData, txHash}` where the
 * return data is `error.data.data` or `error.data`. ethers finds the revert data there and decodes custom errors.
 */
export function providerErrorAnswer(id: unknown, error: unknown): JsonRpcAnswer {
  const fields = isRecord(error) ? error : {};
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof fields.code === "number" ? fields.code : INTERNAL_ERROR;
  let txHash = fields.transactionHash;
  let returnData: unknown;
  if (fields.data !== undefined) {
    returnData = isRecord(fields.data) && fields.data.data !== undefined ? fields.data.data : fields.data;
    if (txHash === undefined && isRecord(fields.data)) txHash = fields.data.transactionHash;
  }
  const data: Record<string, unknown> = { message };
  if (txHash !== undefined) data.txHash = txHash;
  if (returnData !== undefined) data.data = returnData;
  return { jsonrpc: "2.0", id, error: { code, message, data } };
}

/** A JSON-RPC error answer without data. */
function errorAnswer(id: unknown, code: number, message: string): JsonRpcAnswer {
  return { jsonrpc: "2.0", id, error: { code, message } };
}

/** Counters at zero. */
function emptyStats(): FaultProxyStats {
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  return { requests: 0, rpcCalls: 0, forwarded: 0, forwardedByMethod: {}, faults, outageRejections: 0 };
}

/** `rate` if within 0..1; throws RangeError otherwise. */
function checkedRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`failureRate must be within 0..1, got ${rate}`);
  return rate;
}

/** True for a plain object (not null, not an array). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for a JSON-RPC call the proxy can forward: a string method, array or absent params, a valid id. */
function isJsonRpcCall(value: unknown): value is JsonRpcCall {
  return (
    isRecord(value) &&
    typeof value.method === "string" &&
    (value.params === undefined || Array.isArray(value.params)) &&
    (value.id === undefined || typeof value.id === "number" || typeof value.id === "string" || value.id === null)
  );
}

/** The id of a call, or null (as hardhat answers a request without an id). */
function idOf(call: unknown): unknown {
  return isRecord(call) && call.id !== undefined ? call.id : null;
}

/** The request body as UTF-8 text. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Answers with a text/plain body. */
function sendText(res: ServerResponse, status: number, text: string): void {
  sendRaw(res, status, "text/plain", text);
}

/** Answers 200 with a JSON body. */
function sendJson(res: ServerResponse, body: unknown): void {
  sendRaw(res, 200, "application/json", JSON.stringify(body));
}

/** Answers with `text` as is, unless the socket is gone. */
function sendRaw(res: ServerResponse, status: number, contentType: string, text: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}
