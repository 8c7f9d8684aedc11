import { expect } from "chai";
import { request } from "node:http";
import { renderPrometheus, startStatusServer, toMetricName } from "../../../keepers/runtime/status";
import type { KeeperMetrics, StatusServer } from "../../../keepers/runtime/status";

interface HttpReply {
  statusCode: number;
  contentType: string | undefined;
  body: string;
}

/** One HTTP request to the local status server. */
function fetchLocal(port: number, path: string, method = "GET"): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: "127.0.0.1", port, path, method }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () =>
        resolve({ statusCode: response.statusCode ?? 0, contentType: response.headers["content-type"], body }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

describe("Keeper status server", function () {
  let server: StatusServer | undefined;
  let metrics: KeeperMetrics;

  beforeEach(async function () {
    metrics = {
      headLagBlocks: 1,
      queueDepth: 4,
      inFlightTxs: 2,
      signerBalanceWei: 12_345_678_901_234_567_890n,
      lastTickAgeMs: 250,
      counters: { mined: 7, feeCapAlerts: 1 },
    };
    server = await startStatusServer({
      keeper: "liquidator",
      port: 0,
      collect: () => metrics,
      maxHeadLagBlocks: 5,
      maxTickAgeMs: 10_000,
    });
  });

  afterEach(async function () {
    await server?.close();
    server = undefined;
  });

  it("binds an ephemeral port when asked for port 0", function () {
    expect(server!.port).to.be.greaterThan(0);
  });

  it("GET /health is 200 with the figures while healthy", async function () {
    const reply = await fetchLocal(server!.port, "/health");
    expect(reply.statusCode).to.equal(200);
    expect(reply.contentType).to.include("application/json");
    const body = JSON.parse(reply.body) as Record<string, unknown>;
    expect(body).to.deep.include({
      status: "ok",
      keeper: "liquidator",
      headLagBlocks: 1,
      queueDepth: 4,
      inFlightTxs: 2,
      signerBalanceWei: "12345678901234567890",
      lastTickAgeMs: 250,
    });
  });

  it("GET /health is 503 when the head lags or the loop has stalled", async function () {
    metrics.headLagBlocks = 6;
    const lagging = await fetchLocal(server!.port, "/health");
    expect(lagging.statusCode).to.equal(503);
    const lagBody = JSON.parse(lagging.body) as { status: string; reasons: string[] };
    expect(lagBody.status).to.equal("unhealthy");
    expect(lagBody.reasons.join()).to.include("head lag 6 blocks");

    metrics.headLagBlocks = 0;
    metrics.lastTickAgeMs = 10_001;
    const stalled = await fetchLocal(server!.port, "/health");
    expect(stalled.statusCode).to.equal(503);
    expect(stalled.body).to.include("last tick 10001 ms ago");
  });

  it("GET /health is 503 when collecting the figures fails", async function () {
    await server!.close();
    server = await startStatusServer({
      keeper: "liquidator",
      port: 0,
      collect: () => Promise.reject(new Error("rpc down")),
    });
    const reply = await fetchLocal(server.port, "/health");
    expect(reply.statusCode).to.equal(503);
    expect(reply.body).to.include("rpc down");
    expect((await fetchLocal(server.port, "/metrics")).statusCode).to.equal(500);
  });

  it("GET /metrics is Prometheus text with the keeper label", async function () {
    const reply = await fetchLocal(server!.port, "/metrics");
    expect(reply.statusCode).to.equal(200);
    expect(reply.contentType).to.include("text/plain");
    const lines = reply.body.trim().split("\n");
    for (const sample of [
      'head_lag_blocks{keeper="liquidator"} 1',
      'queue_depth{keeper="liquidator"} 4',
      'in_flight_txs{keeper="liquidator"} 2',
      'signer_balance_wei{keeper="liquidator"} 12345678901234567890',
      'last_tick_age_ms{keeper="liquidator"} 250',
      'mined_total{keeper="liquidator"} 7',
      'fee_cap_alerts_total{keeper="liquidator"} 1',
    ]) {
      expect(lines).to.include(sample);
    }
    expect(lines).to.include("# TYPE head_lag_blocks gauge");
    expect(lines).to.include("# TYPE mined_total counter");
    // Every line is a comment or `name{labels} value`.
    for (const line of lines) expect(line).to.match(/^(# (HELP|TYPE) .+|[a-z_:][a-z0-9_:]*\{keeper="[^"]*"\} \d+)$/);
  });

  it("answers 404 elsewhere and 405 for other methods", async function () {
    expect((await fetchLocal(server!.port, "/")).statusCode).to.equal(404);
    expect((await fetchLocal(server!.port, "/metrics/extra")).statusCode).to.equal(404);
    expect((await fetchLocal(server!.port, "/health", "POST")).statusCode).to.equal(405);
    expect((await fetchLocal(server!.port, "/health?verbose=1")).statusCode).to.equal(200);
  });

  it("stops listening after close()", async function () {
    const port = server!.port;
    await server!.close();
    server = undefined;
    let refused = false;
    await fetchLocal(port, "/health").catch(() => (refused = true));
    expect(refused).to.equal(true);
  });

  it("escapes label values and names counters in snake case", function () {
    expect(toMetricName("nonceResyncs")).to.equal("nonce_resyncs");
    expect(toMetricName("simulation-failures")).to.equal("simulation_failures");
    const text = renderPrometheus('a"b\\c', { ...metrics, lastTickAgeMs: undefined, counters: {} });
    expect(text).to.include('queue_depth{keeper="a\\"b\\\\c"} 4');
    expect(text).not.to.include("last_tick_age_ms");
  });
});
