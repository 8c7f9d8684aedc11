import { expect } from "chai";
import pino from "pino";
import { createFatalHandler, runKeeper } from "../../../keepers/runtime/keeperProcess";
import { createLogger } from "../../../keepers/shared/logger";
import { sleep } from "../../../keepers/shared/retry";

const logger = createLogger("keeper-process-test", "silent");

/** Resolves once `condition` holds, polling every 5 ms; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) expect.fail("condition not met in time");
    await sleep(5);
  }
}

describe("Keeper process loop", function () {
  it("survives a tick that throws and keeps ticking", async function () {
    let calls = 0;
    const handle = runKeeper({
      name: "test",
      logger,
      pollIntervalMs: 5,
      installProcessHandlers: false,
      tick: async () => {
        calls++;
        if (calls % 2 === 1) throw new Error(`tick ${calls} failed`);
      },
    });
    await until(() => calls >= 4);
    const report = await handle.stop();
    expect(report.reason).to.equal("stop");
    expect(report.clean).to.equal(true);
    expect(report.tickErrors).to.be.greaterThanOrEqual(2);
    expect(report.ticks).to.be.greaterThanOrEqual(4);
    expect(handle.stats().lastSuccessfulTickAtMs).to.be.a("number");
  });

  it("finishes the current tick, then runs onStop, before done resolves", async function () {
    const events: string[] = [];
    let tickStarted = false;
    const handle = runKeeper({
      name: "test",
      logger,
      pollIntervalMs: 60_000,
      installProcessHandlers: false,
      tick: async () => {
        tickStarted = true;
        events.push("tick start");
        await sleep(50);
        events.push("tick end");
      },
      onStop: async () => {
        await sleep(10);
        events.push("onStop");
      },
    });
    await until(() => tickStarted);
    const stopped = handle.stop("test over");
    expect(handle.stats().stopping).to.equal(true);
    const report = await stopped;
    expect(events).to.deep.equal(["tick start", "tick end", "onStop"]);
    expect(report).to.deep.include({ reason: "test over", ticks: 1, clean: true });
    expect(await handle.stop()).to.equal(report);
  });

  it("wakes from the poll interval at once when stopped", async function () {
    const handle = runKeeper({
      name: "test",
      logger,
      pollIntervalMs: 60_000,
      installProcessHandlers: false,
      tick: async () => undefined,
    });
    await until(() => handle.stats().ticks === 1);
    const startedMs = Date.now();
    await handle.stop();
    expect(Date.now() - startedMs).to.be.lessThan(1_000);
    expect(handle.stats().lastTickAgeMs).to.be.a("number");
  });

  it("gives up on a hung tick after the shutdown timeout and reports it unclean", async function () {
    let tickStarted = false;
    const handle = runKeeper({
      name: "test",
      logger,
      pollIntervalMs: 5,
      shutdownTimeoutMs: 50,
      installProcessHandlers: false,
      tick: () => {
        tickStarted = true;
        return new Promise<void>(() => undefined);
      },
    });
    await until(() => tickStarted);
    const report = await handle.stop();
    expect(report.clean).to.equal(false);
  });

  it("reports onStop failures as unclean", async function () {
    const handle = runKeeper({
      name: "test",
      logger,
      pollIntervalMs: 5,
      installProcessHandlers: false,
      tick: async () => undefined,
      onStop: () => Promise.reject(new Error("waitIdle failed")),
    });
    const report = await handle.stop();
    expect(report.clean).to.equal(false);
  });

  it("stops on SIGTERM, exits on a second signal, and removes its handlers", async function () {
    // The test runner may listen to these signals itself (solidity-coverage does, and exits): only the keeper's
    // handlers may hear the emitted signals, so the others are set aside for the test.
    const others = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
    process.removeAllListeners("SIGTERM");
    process.removeAllListeners("SIGINT");
    try {
      await signalScenario();
    } finally {
      for (const listener of others.SIGTERM) process.on("SIGTERM", listener);
      for (const listener of others.SIGINT) process.on("SIGINT", listener);
    }
  });

  async function signalScenario(): Promise<void> {
    const exits: number[] = [];
    const sigtermListeners = process.listenerCount("SIGTERM");
    const rejectionListeners = process.listenerCount("unhandledRejection");
    let releaseTick: () => void = () => undefined;
    let tickStarted = false;
    const handle = runKeeper({
      name: "test",
      logger,
      pollIntervalMs: 5,
      exit: (code) => exits.push(code),
      tick: () => {
        tickStarted = true;
        return new Promise<void>((resolve) => (releaseTick = resolve));
      },
    });
    expect(process.listenerCount("SIGTERM")).to.equal(sigtermListeners + 1);
    expect(process.listenerCount("unhandledRejection")).to.equal(rejectionListeners + 1);
    await until(() => tickStarted);
    process.emit("SIGTERM");
    expect(handle.stats().stopping).to.equal(true);
    process.emit("SIGINT");
    expect(exits).to.deep.equal([130]);
    releaseTick();
    const report = await handle.done;
    expect(report.reason).to.equal("signal");
    expect(process.listenerCount("SIGTERM")).to.equal(sigtermListeners);
    expect(process.listenerCount("unhandledRejection")).to.equal(rejectionListeners);
  }

  it("the fatal handler logs at fatal level and exits 1", function () {
    const exits: number[] = [];
    const lines: string[] = [];
    const capturing = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    createFatalHandler(capturing, (code) => exits.push(code), "unhandledRejection")(new Error("boom"));
    expect(exits).to.deep.equal([1]);
    const logged = JSON.parse(lines[0]) as { level: number; msg: string; err: string };
    expect(logged).to.deep.include({ level: 60, msg: "unhandledRejection; exiting", err: "boom" });
  });
});
