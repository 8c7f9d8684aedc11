/**
 * JSON-RPC transport of the keepers: an ethers v6 provider over several endpoint URLs with per-request timeouts,
 * jittered exponential backoff, failover to the next endpoint, a cool-down for endpoints that failed, and counters
 * for a /metrics endpoint.
 *
 * Every request ethers makes goes through `FailoverRpcProvider._send`, which posts the JSON-RPC payload itself
 * (fetch + AbortController) instead of using ethers' FetchRequest. What is retried:
 * - transport failures: timeout, connection refused/reset, HTTP 429 and 5xx, a body that is not JSON-RPC;
 * - JSON-RPC errors that look transient (-32000..-32099 with "header not found", "rate limit", ...; -32005);
 * - a response with neither `result` nor `error`, or no response for a request id.
 * What is not retried: a JSON-RPC error that is not transient (an execution revert reaches ethers unchanged, so it
 * decodes it as CALL_EXCEPTION with the revert data) and HTTP 4xx other than 429 (thrown as RpcHttpStatusError).
 * A retry sends the same payload, with the same JSON-RPC ids.
 *
 * eth_sendRawTransaction is idempotent for a given signed transaction, so it is retried too. A retry after a lost
 * response can meet a node that already has the transaction:
 * - "already known" / "known transaction" (and variants) is success: the result is the transaction hash,
 *   keccak256 of the raw transaction, which is what the node would have answered;
 * - "nonce too low" after an earlier failed attempt of the same request is success only if the node knows a
 *   transaction with that hash (eth_getTransactionByHash); otherwise the error reaches ethers (NONCE_EXPIRED).
 */
import { JsonRpcProvider, Network, keccak256 } from "ethers";
import type { JsonRpcError, JsonRpcPayload, JsonRpcResult } from "ethers";
import { KeeperConfigError, KeeperError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import { backoffDelayMs, sleep } from "../shared/retry";

/** Why one attempt of a request failed. */
export type RpcFailureKind =
  "timeout" | "connection" | "http429" | "http5xx" | "http4xx" | "malformed" | "rpcTransient" | "missingResult";

/** Every failure kind, in the order the counters list them. */
export const RPC_FAILURE_KINDS: readonly RpcFailureKind[] = [
  "timeout",
  "connection",
  "http429",
  "http5xx",
  "http4xx",
  "malformed",
  "rpcTransient",
  "missingResult",
];

/** Base class of the failure of one attempt against one endpoint; `retryable` says whether another may succeed. */
export abstract class RpcAttemptError extends KeeperError {
  abstract readonly kind: RpcFailureKind;
  /** True when another attempt (maybe on another endpoint) may succeed. */
  readonly retryable: boolean = true;

  constructor(
    /** The endpoint, without path or query (they may hold an API key). */
    readonly endpoint: string,
    message: string,
  ) {
    super(`${endpoint}: ${message}`);
  }
}

/** No complete answer within `timeoutMs`. */
export class RpcTimeoutError extends RpcAttemptError {
  readonly kind = "timeout";
}

/** The connection could not be opened or broke (refused, reset, DNS); `code` is the socket error code if known. */
export class RpcConnectionError extends RpcAttemptError {
  readonly kind = "connection";

  constructor(
    endpoint: string,
    message: string,
    readonly code: string | undefined,
  ) {
    super(endpoint, message);
  }
}

/** The endpoint answered with an HTTP error status; 429 and 5xx are retryable, other 4xx are not. */
export class RpcHttpStatusError extends RpcAttemptError {
  readonly kind: RpcFailureKind;
  override readonly retryable: boolean;

  constructor(
    endpoint: string,
    readonly status: number,
    bodySnippet: string,
  ) {
    super(endpoint, `HTTP ${status}${bodySnippet === "" ? "" : `: ${bodySnippet}`}`);
    this.kind = status === 429 ? "http429" : status >= 500 ? "http5xx" : "http4xx";
    this.retryable = this.kind !== "http4xx";
  }
}

/** The body is not JSON, not JSON-RPC, or lacks the response to one of the request ids. */
export class RpcMalformedResponseError extends RpcAttemptError {
  readonly kind = "malformed";
}

/** A JSON-RPC error that a node returns while it is overloaded or behind ("header not found", rate limits). */
export class RpcTransientError extends RpcAttemptError {
  readonly kind = "rpcTransient";

  constructor(
    endpoint: string,
    readonly rpcCode: number,
    rpcMessage: string,
  ) {
    super(endpoint, `JSON-RPC error ${rpcCode}: ${rpcMessage}`);
  }
}

/** A JSON-RPC response with neither `result` nor `error`. */
export class RpcMissingResultError extends RpcAttemptError {
  readonly kind = "missingResult";
}

/** Every attempt of a request failed; `lastErrorByEndpoint` holds the last failure seen on each endpoint tried. */
export class RpcUnavailableError extends KeeperError {
  constructor(
    readonly method: string,
    readonly attempts: number,
    readonly lastErrorByEndpoint: ReadonlyMap<string, RpcAttemptError>,
  ) {
    const lastErrors = [...lastErrorByEndpoint.values()].map((error) => `[${error.kind}] ${error.message}`);
    super(`${method}: no endpoint answered in ${attempts} attempts; last errors: ${lastErrors.join("; ")}`);
  }
}

/** Settings of a FailoverRpcProvider. */
export interface FailoverRpcOptions {
  /** Endpoint URLs in order of preference; the first is the primary. */
  urls: string[];
  /** The chain all endpoints serve; never probed. */
  chainId: bigint | number;
  /** Deadline of one HTTP attempt, headers and body, ms. */
  timeoutMs: number;
  /** Attempts of one request over all endpoints, including the first (>= 1). */
  attemptsPerRequest: number;
  /** Backoff before the second attempt, ms; doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Upper bound of one backoff, ms. */
  maxDelayMs: number;
  /** How long an endpoint that failed is skipped while another one is healthy, ms. */
  cooldownMs: number;
  /** Polling interval of ethers' block and receipt subscribers, ms (ethers' default 4,000). */
  pollingIntervalMs?: number;
  /**
   * Hedging: when an attempt has failed or not answered within this many ms, the same request also goes to the
   * next endpoint out of cool-down (the same endpoint when no other is) and the first answer wins (undefined: no
   * hedging). Costs duplicate requests; cuts the tail
   * latency of a faulty endpoint, which a keeper racing for the next block needs.
   */
  hedgeAfterMs?: number;
  /** Logs failovers (warn), returns to a preferred endpoint (info) and retries (debug). */
  logger?: Logger;
  /** Injected for tests: the jitter source of the backoff. */
  random?: () => number;
}

/** Counters of one endpoint, for /metrics. */
export interface RpcEndpointStats {
  index: number;
  /** Scheme and host only. */
  endpoint: string;
  attempts: number;
  failures: number;
  /** False while the endpoint cools down after a failure. */
  healthy: boolean;
  cooldownRemainingMs: number;
}

/** Counters of a FailoverRpcProvider, for /metrics. */
export interface FailoverRpcStats {
  /** Requests from ethers (one per `_send`, a batch counts once). */
  requests: number;
  /** HTTP posts, including retries and transaction look-ups. */
  attempts: number;
  /** Attempts after the first of a request. */
  retries: number;
  /** Failed attempts by kind. */
  failuresByKind: Record<RpcFailureKind, number>;
  /** Changes of the answering endpoint to a less preferred one (the current one failed or cools down). */
  failovers: number;
  /** Changes of the answering endpoint back to a more preferred one (its cool-down ended and it answered). */
  recoveries: number;
  /** Requests that ended in RpcUnavailableError. */
  unavailable: number;
  /** eth_sendRawTransaction answered "already known"/"nonce too low" but the node had the transaction: success. */
  duplicateBroadcasts: number;
  /** Attempts that also went to a second endpoint (see `hedgeAfterMs`). */
  hedges: number;
  /** Index in `urls` of the endpoint that answered the last request. */
  currentEndpointIndex: number;
  endpoints: RpcEndpointStats[];
}

/** Mutable state of one endpoint. */
interface EndpointState {
  url: string;
  label: string;
  cooldownUntilMs: number;
  attempts: number;
  failures: number;
  /** Failed attempts since the endpoint last answered. */
  consecutiveFailures: number;
  /** When the endpoint last failed (epoch ms; 0: never). */
  lastFailureMs: number;
  /** When the endpoint last answered (epoch ms; 0: never). */
  lastAnswerMs: number;
}

type JsonRpcResponse = JsonRpcResult | JsonRpcError;

/** Transient JSON-RPC errors (codes -32000..-32099): the node is overloaded, rate limits, or lags behind the chain. */
const TRANSIENT_RPC_MESSAGE =
  /header not found|rate limit|limit exceeded|too many requests|timed? ?out|try again|temporar|unavailable|busy|overload|capacity|upstream|unknown block|could not find block|block not found/i;
/** The node already holds the signed transaction. */
const ALREADY_KNOWN_MESSAGE = /already known|known transaction|already imported|already in mempool|alreadyknown/i;
/** The sender's nonce moved past the transaction's: it was mined, or another one took the nonce. */
const NONCE_TOO_LOW_MESSAGE = /nonce too low|nonce is too low|nonce has already been used|already been mined/i;
/** JSON-RPC code of EIP-1474 "limit exceeded". */
const LIMIT_EXCEEDED_CODE = -32005;
/** Socket error codes meaning the request never reached the server. */
const NOT_CONNECTED_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** Characters of a non-JSON body quoted in an error. */
const BODY_SNIPPET_CHARS = 120;

/** An attempt is hedged after this many times the usual latency of its kind, when that exceeds `hedgeAfterMs`. */
const HEDGE_LATENCY_MULTIPLE = 3;
/** Weight of the newest latency in the moving average of a request kind. */
const LATENCY_AVERAGE_WEIGHT = 0.2;

/**
 * What a request's latency is compared with: its method, and for calls and estimates also the target and the
 * function selector (a price read and a large simulation are both `eth_call`). A batch is one kind per method list.
 */
function requestKind(body: JsonRpcPayload | JsonRpcPayload[]): string {
  if (Array.isArray(body)) return `batch:${body.map((payload) => payload.method).join(",")}`;
  if (body.method !== "eth_call" && body.method !== "eth_estimateGas") return body.method;
  const tx = (Array.isArray(body.params) ? body.params[0] : undefined) as
    { to?: unknown; data?: unknown; input?: unknown } | undefined;
  const data = typeof tx?.data === "string" ? tx.data : typeof tx?.input === "string" ? tx.input : "";
  return `${body.method}:${String(tx?.to ?? "")}:${data.slice(0, 10)}`;
}

/**
 * An ethers v6 JSON-RPC provider over several endpoints with retries, failover and cool-downs (see the file
 * comment for what is retried). Requests are never batched (batchMaxCount 1), responses never cached, the chain id
 * never probed.
 */
export class FailoverRpcProvider extends JsonRpcProvider {
  private readonly settings: FailoverRpcOptions;
  private readonly endpoints: EndpointState[];
  private readonly failuresByKind: Record<RpcFailureKind, number>;
  private readonly counters = {
    requests: 0,
    attempts: 0,
    retries: 0,
    failovers: 0,
    recoveries: 0,
    unavailable: 0,
    duplicateBroadcasts: 0,
    hedges: 0,
  };
  private currentEndpointIndex = 0;
  /** Moving average of answered attempts' latency by request kind (`requestKind`), ms. */
  private readonly usualLatencyMs = new Map<string, number>();
  private nextLookupId = 1;

  /** @throws KeeperConfigError if a URL or a number of `options` is invalid. */
  constructor(options: FailoverRpcOptions) {
    validateOptions(options);
    const network = Network.from(BigInt(options.chainId));
    super(options.urls[0], network, {
      staticNetwork: network,
      cacheTimeout: -1,
      batchMaxCount: 1,
      pollingInterval: options.pollingIntervalMs,
    });
    this.settings = { ...options, urls: [...options.urls] };
    const labels = options.urls.map(redactRpcUrl);
    this.endpoints = options.urls.map((url, index) => ({
      url,
      // Two keys of one provider redact to the same label: number the repeats.
      label: labels.indexOf(labels[index]) === index ? labels[index] : `${labels[index]} #${index}`,
      cooldownUntilMs: 0,
      consecutiveFailures: 0,
      lastFailureMs: 0,
      lastAnswerMs: 0,
      attempts: 0,
      failures: 0,
    }));
    this.failuresByKind = Object.fromEntries(RPC_FAILURE_KINDS.map((kind) => [kind, 0])) as Record<
      RpcFailureKind,
      number
    >;
  }

  /** A provider over the comma-separated URLs of `urlList` ("url1,url2"), e.g. from an RPC_URLS variable. */
  static fromUrlList(urlList: string, options: Omit<FailoverRpcOptions, "urls">): FailoverRpcProvider {
    return new FailoverRpcProvider({ ...options, urls: parseRpcUrlList(urlList) });
  }

  /** A snapshot of the counters, for /metrics. */
  stats(): FailoverRpcStats {
    const nowMs = Date.now();
    return {
      ...this.counters,
      failuresByKind: { ...this.failuresByKind },
      currentEndpointIndex: this.currentEndpointIndex,
      endpoints: this.endpoints.map((endpoint, index) => ({
        index,
        endpoint: endpoint.label,
        attempts: endpoint.attempts,
        failures: endpoint.failures,
        healthy: endpoint.cooldownUntilMs <= nowMs,
        cooldownRemainingMs: Math.max(0, endpoint.cooldownUntilMs - nowMs),
      })),
    };
  }

  /**
   * Sends `payload` (one request or a batch) with retries and failover; resolves to one response per request, in
   * request order, with the request's id. JSON-RPC errors that are not transient are responses, not exceptions.
   * @throws RpcUnavailableError when every attempt failed; RpcHttpStatusError on HTTP 4xx other than 429.
   */
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    this.counters.requests += 1;
    const responses = await this.sendWithFailover(Array.isArray(payload) ? payload : [payload], Array.isArray(payload));
    // ethers declares JsonRpcProvider._send as resolving to results only, but handles error responses too.
    return responses as JsonRpcResult[];
  }

  /** The retry loop: posts the requests still unanswered until all are answered or attempts run out. */
  private async sendWithFailover(payloads: JsonRpcPayload[], asBatch: boolean): Promise<JsonRpcResponse[]> {
    const answered = new Map<JsonRpcPayload, JsonRpcResponse>();
    const lastErrorByEndpoint = new Map<string, RpcAttemptError>();
    let pending = payloads;
    for (let attempt = 1; ; attempt++) {
      let index = this.selectEndpoint();
      let endpoint = this.endpoints[index];
      let failure: RpcAttemptError | undefined;
      let answeredWithFailure = false;
      try {
        const posted = await this.postHedged(index, asBatch ? pending : pending[0]);
        index = posted.index;
        endpoint = this.endpoints[index];
        const responses = posted.responses;
        const stillPending: JsonRpcPayload[] = [];
        for (const request of pending) {
          const outcome = this.interpretResponse(endpoint, request, responses);
          if (outcome instanceof RpcAttemptError) {
            failure = outcome;
            answeredWithFailure = true;
            stillPending.push(request);
          } else {
            answered.set(request, await this.settleBroadcast(request, outcome, attempt > 1));
          }
        }
        pending = stillPending;
      } catch (error) {
        if (!(error instanceof RpcAttemptError)) throw error;
        failure = error; // postHedged recorded it
      }
      if (failure !== undefined) {
        if (answeredWithFailure) this.recordFailure(endpoint, failure);
        lastErrorByEndpoint.set(endpoint.label, failure);
        if (!failure.retryable) throw failure;
      }
      if (failure === undefined) {
        endpoint.consecutiveFailures = 0;
        endpoint.lastAnswerMs = Date.now();
      }
      if (pending.length === 0) {
        this.noteAnsweringEndpoint(index);
        return payloads.map((request) => answered.get(request) as JsonRpcResponse);
      }
      if (attempt >= this.settings.attemptsPerRequest) {
        this.counters.unavailable += 1;
        const method = pending.map((request) => request.method).join(",");
        throw new RpcUnavailableError(method, attempt, lastErrorByEndpoint);
      }
      const delayMs = backoffDelayMs(attempt, this.settings, this.settings.random);
      this.settings.logger?.debug({ endpoint: endpoint.label, attempt, delayMs, error: failure?.message }, "rpc retry");
      this.counters.retries += 1;
      await sleep(delayMs);
    }
  }

  /**
   * One attempt at `index`, hedged when configured: if it fails or is slower than `hedgeAfterMs`, the endpoint of
   * `hedgeEndpointFor` gets the same body too, and the first answer wins. Every failed attempt (the selected
   * endpoint's and the hedge's) is recorded here, so an endpoint that failed cools down even when the hedge
   * answered; when both fail, the selected endpoint's error is thrown.
   */
  private async postHedged(
    index: number,
    body: JsonRpcPayload | JsonRpcPayload[],
  ): Promise<{ responses: unknown[]; index: number }> {
    const kind = requestKind(body);
    const startedMs = Date.now();
    const selected = this.endpoints[index];
    // A failed attempt is recorded where it fails, also when a hedge answers instead (the endpoint cools down).
    const first = this.postOnce(selected, body).then(
      (responses) => {
        this.noteLatency(kind, Date.now() - startedMs);
        return { responses, index };
      },
      (error: unknown) => {
        if (error instanceof RpcAttemptError) this.recordFailure(selected, error);
        throw error;
      },
    );
    const hedgeAfterMs = this.hedgeDelayMs(kind);
    if (hedgeAfterMs === undefined) return first;
    const settledFirst = first.then(
      () => true,
      () => true,
    );
    const early = await Promise.race([settledFirst, sleep(hedgeAfterMs).then(() => false)]);
    if (early) {
      const outcome = await first.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      if ("value" in outcome) return outcome.value;
    }
    const hedgeIndex = this.hedgeEndpointFor(index);
    const hedgeEndpoint = this.endpoints[hedgeIndex];
    this.counters.hedges += 1;
    const hedgeStartedMs = Date.now();
    const hedge = this.postOnce(hedgeEndpoint, body).then(
      (responses) => {
        this.noteLatency(kind, Date.now() - hedgeStartedMs);
        return { responses, index: hedgeIndex };
      },
      (error: unknown) => {
        if (error instanceof RpcAttemptError) this.recordFailure(hedgeEndpoint, error);
        throw error;
      },
    );
    try {
      return await Promise.any([first, hedge]);
    } catch {
      // Both failed: the selected endpoint's error decides what happens next.
      return first;
    }
  }

  /**
   * How long an attempt of `kind` runs before it is hedged: `hedgeAfterMs`, or HEDGE_LATENCY_MULTIPLE times the
   * usual latency of the kind when that is longer, so a call that is slow by nature (a large simulation) is not
   * sent twice and does not double the node's work.
   */
  private hedgeDelayMs(kind: string): number | undefined {
    const hedgeAfterMs = this.settings.hedgeAfterMs;
    if (hedgeAfterMs === undefined) return undefined;
    const usualMs = this.usualLatencyMs.get(kind);
    return usualMs === undefined ? hedgeAfterMs : Math.max(hedgeAfterMs, Math.ceil(HEDGE_LATENCY_MULTIPLE * usualMs));
  }

  /** Folds an answered attempt's latency into the moving average of its kind. */
  private noteLatency(kind: string, elapsedMs: number): void {
    const usualMs = this.usualLatencyMs.get(kind);
    this.usualLatencyMs.set(
      kind,
      usualMs === undefined ? elapsedMs : usualMs + LATENCY_AVERAGE_WEIGHT * (elapsedMs - usualMs),
    );
  }

  /**
   * Where a hedge of an attempt at `index` goes: the next endpoint out of cool-down, or else the next one that has
   * answered since it last failed; when no other endpoint qualifies (the primary is in an outage), `index` itself
   * again: a second request to the node that answers between faults beats one to a node that is down.
   */
  private hedgeEndpointFor(index: number): number {
    const nowMs = Date.now();
    let answering: number | undefined;
    for (let step = 1; step < this.endpoints.length; step++) {
      const candidate = (index + step) % this.endpoints.length;
      const endpoint = this.endpoints[candidate];
      if (endpoint.cooldownUntilMs <= nowMs) return candidate;
      if (answering === undefined && endpoint.lastAnswerMs > endpoint.lastFailureMs) answering = candidate;
    }
    return answering ?? index;
  }

  /**
   * The most preferred endpoint out of cool-down; when all cool down, the best by `isBetterWhileCoolingDown`.
   */
  private selectEndpoint(): number {
    const nowMs = Date.now();
    const healthy = this.endpoints.findIndex((endpoint) => endpoint.cooldownUntilMs <= nowMs);
    if (healthy >= 0) return healthy;
    let best = 0;
    for (let index = 1; index < this.endpoints.length; index++) {
      if (this.isBetterWhileCoolingDown(index, best)) best = index;
    }
    return best;
  }

  /**
   * Between two endpoints in cool-down: fewer failures in a row (a node that answers between faults beats one that
   * is down), then the more recent answer, then the earlier end of cool-down.
   */
  private isBetterWhileCoolingDown(a: number, b: number): boolean {
    const [left, right] = [this.endpoints[a], this.endpoints[b]];
    if (left.consecutiveFailures !== right.consecutiveFailures) {
      return left.consecutiveFailures < right.consecutiveFailures;
    }
    if (left.lastAnswerMs !== right.lastAnswerMs) return left.lastAnswerMs > right.lastAnswerMs;
    return left.cooldownUntilMs < right.cooldownUntilMs;
  }

  /**
   * Makes `index` the current endpoint after it answered a request; counts a failover (to a less preferred
   * endpoint) or a recovery (back to a more preferred one) when it differs from the previous one.
   */
  private noteAnsweringEndpoint(index: number): void {
    const previous = this.currentEndpointIndex;
    if (index === previous) return;
    const change = { from: this.endpoints[previous].label, to: this.endpoints[index].label };
    if (index > previous) {
      this.counters.failovers += 1;
      this.settings.logger?.warn(change, "rpc failover");
    } else {
      this.counters.recoveries += 1;
      this.settings.logger?.info(change, "rpc back to a preferred endpoint");
    }
    this.currentEndpointIndex = index;
  }

  /** Counts a failed attempt and puts its endpoint in cool-down. */
  private recordFailure(endpoint: EndpointState, failure: RpcAttemptError): void {
    this.failuresByKind[failure.kind] += 1;
    endpoint.failures += 1;
    endpoint.consecutiveFailures += 1;
    endpoint.lastFailureMs = Date.now();
    endpoint.cooldownUntilMs = Date.now() + this.settings.cooldownMs;
  }

  /**
   * One HTTP post of `body` to `endpoint` within `timeoutMs`; resolves to the JSON-RPC responses of the body.
   * @throws RpcAttemptError for timeouts, connection errors, HTTP error statuses and bodies that are not JSON-RPC.
   */
  private async postOnce(endpoint: EndpointState, body: JsonRpcPayload | JsonRpcPayload[]): Promise<unknown[]> {
    this.counters.attempts += 1;
    endpoint.attempts += 1;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.settings.timeoutMs);
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await response.text();
      const parsed = parseJsonRpcBody(text);
      if (response.status === 429) throw new RpcHttpStatusError(endpoint.label, 429, snippet(text));
      if (!response.ok) {
        // A node may send an execution error with an error status; it is an answer, not an outage.
        const isExecutionAnswer =
          parsed !== undefined && parsed.every((entry) => isRecord(entry) && isExecutionError(entry.error));
        if (isExecutionAnswer) return parsed;
        throw new RpcHttpStatusError(endpoint.label, response.status, snippet(text));
      }
      if (parsed === undefined) {
        throw new RpcMalformedResponseError(endpoint.label, `body is not JSON-RPC: ${snippet(text)}`);
      }
      return parsed;
    } catch (error) {
      throw toAttemptError(endpoint.label, error, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The response to `request` among `responses` (its id set to the request's), or the retryable failure it shows:
   * no response, neither result nor error, or a transient JSON-RPC error.
   */
  private interpretResponse(
    endpoint: EndpointState,
    request: JsonRpcPayload,
    responses: unknown[],
  ): JsonRpcResponse | RpcAttemptError {
    const response = responses.find((entry) => isRecord(entry) && String(entry.id) === String(request.id));
    if (!isRecord(response)) {
      return new RpcMalformedResponseError(endpoint.label, `no response for ${request.method} id ${request.id}`);
    }
    if (isRecord(response.error)) {
      if (isTransientRpcError(response.error)) {
        return new RpcTransientError(endpoint.label, Number(response.error.code), String(response.error.message));
      }
      // Unchanged, so that ethers decodes a revert (CALL_EXCEPTION with its data) or a nonce error itself.
      return { id: request.id, error: response.error as JsonRpcError["error"] };
    }
    if (!("result" in response)) {
      return new RpcMissingResultError(endpoint.label, `${request.method} id ${request.id}: neither result nor error`);
    }
    return { id: request.id, result: response.result };
  }

  /**
   * For eth_sendRawTransaction, turns "already known" into success, and "nonce too low" after an earlier failed
   * attempt into success if a node knows the transaction; other responses pass unchanged.
   */
  private async settleBroadcast(
    request: JsonRpcPayload,
    response: JsonRpcResponse,
    earlierAttemptFailed: boolean,
  ): Promise<JsonRpcResponse> {
    if (request.method !== "eth_sendRawTransaction" || !("error" in response)) return response;
    const rawTransaction = Array.isArray(request.params) ? request.params[0] : undefined;
    if (typeof rawTransaction !== "string") return response;
    const hash = keccak256(rawTransaction);
    const message = response.error.message ?? "";
    const alreadyKnown = ALREADY_KNOWN_MESSAGE.test(message);
    const minedByEarlierAttempt =
      !alreadyKnown && earlierAttemptFailed && NONCE_TOO_LOW_MESSAGE.test(message) && (await this.isKnown(hash));
    if (!alreadyKnown && !minedByEarlierAttempt) return response;
    this.counters.duplicateBroadcasts += 1;
    this.settings.logger?.info({ hash, message }, "rpc broadcast already accepted by the node");
    return { id: request.id, result: hash };
  }

  /** True if a node returns the transaction `hash` (pending or mined); false if not, or if no node answers. */
  private async isKnown(hash: string): Promise<boolean> {
    const lookup: JsonRpcPayload = {
      id: -this.nextLookupId++,
      jsonrpc: "2.0",
      method: "eth_getTransactionByHash",
      params: [hash],
    };
    try {
      const [response] = await this.sendWithFailover([lookup], false);
      return "result" in response && response.result !== null;
    } catch (error) {
      if (error instanceof KeeperError) return false;
      throw error;
    }
  }
}

/**
 * The URLs of a comma-separated list ("url1,url2"), trimmed, empty items dropped.
 * @throws KeeperConfigError if the list is empty or an item is not an http(s) URL.
 */
export function parseRpcUrlList(urlList: string): string[] {
  const urls = urlList
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  if (urls.length === 0) throw new KeeperConfigError("RPC URL list is empty");
  for (const url of urls) assertHttpUrl(url);
  return urls;
}

/** Scheme and host of `url`, without path, query or credentials, which often hold an API key. */
export function redactRpcUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.pathname.length > 1 || parsed.search !== "" ? "/…" : "";
    return `${parsed.protocol}//${parsed.host}${hidden}`;
  } catch {
    return "<invalid url>";
  }
}

/**
 * True for a JSON-RPC error that a later attempt or another endpoint may not return: code -32005, 429, or
 * -32000..-32099 with the message of an overloaded or lagging node; never for an execution revert.
 */
export function isTransientRpcError(error: unknown): boolean {
  if (!isRecord(error) || typeof error.code !== "number" || isExecutionError(error)) return false;
  if (error.code === LIMIT_EXCEEDED_CODE || error.code === 429) return true;
  const message = typeof error.message === "string" ? error.message : "";
  return error.code <= -32000 && error.code >= -32099 && TRANSIENT_RPC_MESSAGE.test(message);
}

/** True for a JSON-RPC error of executing a call or transaction: a "revert" message or hex revert data. */
function isExecutionError(error: unknown): boolean {
  if (!isRecord(error)) return false;
  if (typeof error.message === "string" && /revert/i.test(error.message)) return true;
  if (isHexData(error.data)) return true;
  return isRecord(error.data) && isHexData(error.data.data);
}

/** True for a 0x-prefixed hex string. */
function isHexData(value: unknown): boolean {
  return typeof value === "string" && /^0x[0-9a-fA-F]*$/.test(value);
}

/** True for a plain object (not null, not an array). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The responses of a JSON-RPC body (one object or an array), or undefined if it is not JSON-RPC. */
function parseJsonRpcBody(text: string): unknown[] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const entries = Array.isArray(body) ? body : [body];
  const isResponse = (entry: unknown) => isRecord(entry) && "id" in entry;
  return entries.length > 0 && entries.every(isResponse) ? entries : undefined;
}

/** `error` as an RpcAttemptError: an abort is a timeout, a fetch TypeError a connection error. */
function toAttemptError(endpoint: string, error: unknown, aborted: boolean): unknown {
  if (error instanceof RpcAttemptError) return error;
  if (aborted) return new RpcTimeoutError(endpoint, "no answer within the timeout");
  if (error instanceof TypeError || (error instanceof Error && "code" in error)) {
    const code = socketErrorCode(error);
    const reached = code === undefined || !NOT_CONNECTED_CODES.has(code) ? "" : " (not sent)";
    return new RpcConnectionError(endpoint, `${error.message}${code === undefined ? "" : ` ${code}`}${reached}`, code);
  }
  return error;
}

/** The socket error code of a fetch failure (`error.cause.code`, e.g. ECONNRESET), if any. */
function socketErrorCode(error: Error): string | undefined {
  for (let current: unknown = error; isRecord(current) || current instanceof Error;) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The start of a response body on one line, for error messages. */
function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > BODY_SNIPPET_CHARS ? `${oneLine.slice(0, BODY_SNIPPET_CHARS)}…` : oneLine;
}

/** @throws KeeperConfigError unless `url` is an http(s) URL. */
function assertHttpUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new KeeperConfigError(`RPC URL is not a URL: ${redactRpcUrl(url)}`);
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new KeeperConfigError(`RPC URL must be http(s): ${redactRpcUrl(url)}`);
  }
}

/** @throws KeeperConfigError naming the first invalid option. */
function validateOptions(options: FailoverRpcOptions): void {
  if (options.urls.length === 0) throw new KeeperConfigError("FailoverRpcProvider needs at least one URL");
  for (const url of options.urls) assertHttpUrl(url);
  const positive = { timeoutMs: options.timeoutMs, attemptsPerRequest: options.attemptsPerRequest };
  const nonNegative = {
    baseDelayMs: options.baseDelayMs,
    maxDelayMs: options.maxDelayMs,
    cooldownMs: options.cooldownMs,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isFinite(value) || value <= 0) throw new KeeperConfigError(`${name} must be > 0, got ${value}`);
  }
  for (const [name, value] of Object.entries(nonNegative)) {
    if (!Number.isFinite(value) || value < 0) throw new KeeperConfigError(`${name} must be >= 0, got ${value}`);
  }
  if (!Number.isInteger(options.attemptsPerRequest))
    throw new KeeperConfigError("attemptsPerRequest must be an integer");
}
