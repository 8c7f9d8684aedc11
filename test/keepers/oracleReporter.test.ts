import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { IndexOracle__factory } from "../../typechain-types";
import { FEEDS } from "../../config/feeds";
import { OracleReporter } from "../../keepers/oracle-reporter/reporter";
import type { ReporterSettings, RoundOutcome } from "../../keepers/oracle-reporter/reporter";
import { roundIntentKey } from "../../keepers/oracle-reporter/transmit";
import type { ReporterSender } from "../../keepers/oracle-reporter/transmit";
import { TxSender } from "../../keepers/runtime/txSender";
import type { TxBroadcast, TxIntent } from "../../keepers/runtime/txSender";
import {
  BundledReplaySource,
  SnapshotSource,
  loadBundledData,
  resolvePriceList,
} from "../../keepers/oracle-reporter/source";
import type { AitInputs, GpuhInputs, IndexSource } from "../../keepers/oracle-reporter/source";
import { createLogger } from "../../keepers/shared/logger";
import { feedIdOf, formatX18 } from "../../sdk";

const AIT = feedIdOf("AIT");
const GPUH = feedIdOf("GPUH");

/** A source whose inputs a test edits between ticks. */
class EditableSource implements IndexSource {
  constructor(public inputs: { AIT: AitInputs; GPUH: GpuhInputs }) {}
  async read() {
    return structuredClone(this.inputs);
  }
}

const logger = createLogger("test-reporter", "silent");

/** A sender that records the intents it is given and passes them on to `inner`, or answers with `answer`. */
function recordingSender(inner: ReporterSender, answer?: ReporterSender["send"]) {
  const intents: TxIntent[] = [];
  const sender: ReporterSender = {
    address: inner.address,
    send: (intent) => {
      intents.push(intent);
      return answer === undefined ? inner.send(intent) : answer(intent);
    },
  };
  return { sender, intents };
}

async function reporterFixture() {
  const [deployer] = await ethers.getSigners();
  const reporters = Array.from({ length: 5 }, (_, i) => new Wallet(keccak256(toUtf8Bytes(`keeper-reporter-${i}`))));
  const oracle = await new IndexOracle__factory(deployer).deploy(deployer.address, deployer.address);
  for (const feed of FEEDS) {
    await oracle.createFeed(
      feedIdOf(feed.symbol),
      feed.params,
      1,
      reporters.map((r) => r.address),
      3,
    );
  }
  // The transmitter: a key of its own that pays the gas (it needs no role in the oracle).
  const transmitter = new Wallet(keccak256(toUtf8Bytes("keeper-reporter-transmitter")), ethers.provider);
  await (await deployer.sendTransaction({ to: transmitter.address, value: ethers.parseEther("10") })).wait();
  const data = await loadBundledData();
  const replay = new BundledReplaySource(data, BigInt(await time.latest()));
  const baseInputs = await replay.read(BigInt(await time.latest()));
  // loadFixture caches this object across tests: hand each test its own copy of the inputs.
  const editableSource = () => new EditableSource(structuredClone(baseInputs));
  const settings: ReporterSettings = {
    feeds: ["AIT", "GPUH"],
    heartbeatSec: { AIT: 21_600n, GPUH: 3_600n },
    deviationBps: 50n,
    roundAlignSec: 60n,
  };
  /** The transmitter's sender as a new process builds it: the nonce read from the chain, no keys remembered. */
  const newSender = (options: { dryRun?: boolean; onBroadcast?: (event: TxBroadcast) => void } = {}) =>
    new TxSender({
      provider: ethers.provider,
      signer: transmitter,
      maxFeePerGasWei: ethers.parseUnits("500", "gwei"),
      pollIntervalMs: 10,
      logger,
      ...options,
    });
  const make = (
    options: {
      settings?: Partial<ReporterSettings>;
      source?: IndexSource;
      signers?: Wallet[];
      sender?: ReporterSender;
    } = {},
  ) =>
    new OracleReporter({
      oracle,
      provider: ethers.provider,
      signers: options.signers ?? reporters.slice(0, 3),
      source: options.source ?? editableSource(),
      sender: options.sender ?? newSender(),
      logger,
      settings: { ...settings, ...options.settings },
    });
  return { oracle, reporters, data, editableSource, make, newSender, deployer, transmitter };
}

describe("Oracle reporter keeper (KPR)", function () {
  it("submits the first round of every feed, then waits for the heartbeat (KPR-01)", async function () {
    const { oracle, make } = await loadFixture(reporterFixture);
    const reporter = make();
    const first = await reporter.tick();
    expect(first.map((o) => o.action)).to.deep.equal(["submitted", "submitted"]);
    expect(first[0].events).to.include("RoundAccepted");
    expect(formatX18((await oracle.peekLatest(AIT))[0])).to.equal("4.046500000000000000");
    expect(formatX18((await oracle.peekLatest(GPUH))[0])).to.equal("4.328750000000000000");

    await time.increase(120);
    const again = await reporter.tick();
    expect(again.map((o) => o.reason)).to.deep.equal(["minimum interval", "minimum interval"]);

    await time.increase(3_600);
    const hourLater = await reporter.tick();
    expect(hourLater.map((o) => `${o.action}:${o.reason}`)).to.deep.equal([
      "skipped:unchanged within the heartbeat",
      "submitted:heartbeat",
    ]);
  });

  it("submits early when the index moves more than the deviation threshold (KPR-02)", async function () {
    const { oracle, make, editableSource } = await loadFixture(reporterFixture);
    const editable = editableSource();
    const reporter = make({ settings: { feeds: ["AIT"] }, source: editable });
    await reporter.tick();
    await time.increase(1_000);
    editable.inputs.AIT.prices = resolvePriceList((await loadBundledData()).priceLists, "2026-06-01");
    const [outcome] = await reporter.tick();
    expect(outcome.action).to.equal("submitted");
    expect(outcome.reason).to.equal("deviation");
    expect(formatX18((await oracle.peekLatest(AIT))[0])).to.equal("4.144375000000000000");
  });

  it("lets a large step be held, waits the confirmation delay, then confirms it (KPR-03)", async function () {
    const { oracle, make, editableSource, data } = await loadFixture(reporterFixture);
    const editable = editableSource();
    const reporter = make({ settings: { feeds: ["AIT"] }, source: editable });
    await reporter.tick();
    await time.increase(1_000);
    editable.inputs.AIT.prices = resolvePriceList(data.priceLists, "scenario-flagship-cut");
    const [held] = await reporter.tick();
    expect(held.events).to.deep.equal(["RoundHeld"]);
    await time.increase(1_800);
    const [waiting] = await reporter.tick();
    expect(waiting.reason).to.equal("held jump: waiting for the confirmation delay");
    await time.increase(1_800);
    const [confirmed] = await reporter.tick();
    expect(confirmed.reason).to.equal("confirm held jump");
    expect(confirmed.events).to.include("JumpConfirmed");
    expect((await oracle.feedState(AIT)).roundCount).to.equal(3n);
  });

  it("refuses to sign data that fails validation, and sends nothing (KPR-04)", async function () {
    const { oracle, make, editableSource } = await loadFixture(reporterFixture);
    const editable = editableSource();
    editable.inputs.AIT.prices["openai-frontier"] = { ...editable.inputs.AIT.prices["openai-frontier"], input: "5000" };
    const outcomes = await make({ source: editable }).tick();
    expect(outcomes[0].action).to.equal("refused");
    expect(outcomes[0].reason).to.match(/outside \[0.001, 500\]/);
    expect(outcomes[1].action).to.equal("submitted");
    expect((await oracle.feedState(AIT)).roundCount).to.equal(0n);
  });

  it("signs and simulates but sends nothing in dry-run mode (KPR-05)", async function () {
    const { oracle, make, newSender, transmitter } = await loadFixture(reporterFixture);
    const sender = newSender({ dryRun: true });
    const nonceBefore = await ethers.provider.getTransactionCount(transmitter.address, "pending");
    const outcomes = await make({ sender }).tick();
    expect(outcomes.map((o) => `${o.action}:${o.reason}`)).to.deep.equal([
      "dry-run:first round",
      "dry-run:first round",
    ]);
    expect(sender.counters()).to.include({ intents: 2, dryRuns: 2, simulationFailures: 0, broadcasts: 0 });
    expect(await ethers.provider.getTransactionCount(transmitter.address, "pending")).to.equal(nonceBefore);
    expect((await oracle.feedState(AIT)).roundCount).to.equal(0n);
    expect((await oracle.feedState(GPUH)).roundCount).to.equal(0n);
  });

  it("refuses data of another methodology version than the oracle's", async function () {
    const { oracle, make, deployer } = await loadFixture(reporterFixture);
    await oracle.connect(deployer).setMethodologyVersion(AIT, 2);
    const [outcome] = await make({ settings: { feeds: ["AIT"] } }).tick();
    expect(outcome.action).to.equal("refused");
    expect(outcome.reason).to.equal("methodology v1 of the data, oracle expects v2");
  });

  it("does not send a round whose simulation reverts, and names the decoded contract error", async function () {
    const { oracle, make, newSender, reporters } = await loadFixture(reporterFixture);
    const sender = newSender();
    const strangers = Array.from({ length: 3 }, () => Wallet.createRandom() as unknown as Wallet);
    const [unauthorized] = await make({ settings: { feeds: ["AIT"] }, signers: strangers, sender }).tick();
    expect(unauthorized.action).to.equal("refused");
    expect(unauthorized.reason).to.match(new RegExp(`^SignerNotAuthorized\\(${AIT}, 0x[0-9a-fA-F]{40}\\)$`));
    const [belowQuorum] = await make({ settings: { feeds: ["AIT"] }, signers: reporters.slice(0, 2), sender }).tick();
    expect(belowQuorum.action).to.equal("refused");
    expect(belowQuorum.reason).to.equal(`QuorumNotMet(${AIT}, 2, 3)`);
    expect(sender.counters()).to.include({ intents: 2, simulationFailures: 2, broadcasts: 0 });
    expect((await oracle.feedState(AIT)).roundCount).to.equal(0n);
  });

  it("hands each round to the sender under a (feed, round time) key that it never sends twice", async function () {
    const { make, newSender } = await loadFixture(reporterFixture);
    const sender = newSender();
    const recorded = recordingSender(sender);
    const [outcome] = await make({ settings: { feeds: ["AIT"] }, sender: recorded.sender }).tick();
    expect(outcome.action).to.equal("submitted");
    expect(recorded.intents.map((intent) => intent.key)).to.deep.equal([roundIntentKey("AIT", outcome.observedAt!)]);
    expect((await sender.send(recorded.intents[0])).status).to.equal("duplicate");
    // A round the sender has already handled is skipped, not refused.
    const remembering = recordingSender(sender, async (intent) => ({
      status: "duplicate",
      key: intent.key,
      previous: "mined",
    }));
    const [again] = await make({ settings: { feeds: ["GPUH"] }, sender: remembering.sender }).tick();
    expect(again.action).to.equal("skipped");
    expect(again.reason).to.equal("round already handed to the sender (mined)");
  });

  it("never resubmits an accepted round after a restart: new reporter, new sender (KPR-06)", async function () {
    const { oracle, make, newSender } = await loadFixture(reporterFixture);
    const first = await make().tick();
    expect(first.map((o) => o.action)).to.deep.equal(["submitted", "submitted"]);
    // A second process with the same keys, or the first one after a restart: its sender remembers nothing.
    const restarted = newSender();
    const outcomes = await make({ sender: restarted }).tick();
    expect(outcomes.map((o) => `${o.action}:${o.reason}`)).to.deep.equal([
      "skipped:minimum interval",
      "skipped:minimum interval",
    ]);
    expect(restarted.counters().intents).to.equal(0);
    expect((await oracle.feedState(AIT)).roundCount).to.equal(1n);
    expect((await oracle.feedState(GPUH)).roundCount).to.equal(1n);
  });

  it("after a restart, waits for a round the previous process left pending instead of sending it again", async function () {
    const { oracle, make, newSender } = await loadFixture(reporterFixture);
    let inFlight: Promise<RoundOutcome[]> | undefined;
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      // The first process broadcasts its round, then dies before the transaction is mined.
      let broadcastSeen: () => void = () => undefined;
      const broadcast = new Promise<void>((resolve) => (broadcastSeen = resolve));
      const dying = newSender({ onBroadcast: () => broadcastSeen() });
      inFlight = make({ settings: { feeds: ["AIT"] }, sender: dying }).tick();
      await broadcast;
      const restarted = newSender();
      const [outcome] = await make({ settings: { feeds: ["AIT"] }, sender: restarted }).tick();
      expect(`${outcome.action}:${outcome.reason}`).to.equal(
        "skipped:transmitter has 1 transaction(s) pending; waiting for them",
      );
      expect(restarted.counters().intents).to.equal(0);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
      await ethers.provider.send("evm_mine", []);
    }
    expect((await inFlight)[0].action).to.equal("submitted");
    const [later] = await make({ settings: { feeds: ["AIT"] } }).tick();
    expect(later.reason).to.equal("minimum interval");
    expect((await oracle.feedState(AIT)).roundCount).to.equal(1n);
  });

  describe("snapshot sources", function () {
    async function snapshotJson() {
      const data = await loadBundledData();
      const replay = new BundledReplaySource(data, 0n);
      const inputs = await replay.read(0n);
      return {
        asOf: "2026-05-25",
        ait: { basket: inputs.AIT.basket, prices: inputs.AIT.prices },
        gpuh: { panel: inputs.GPUH.panel, observations: inputs.GPUH.observations },
      };
    }

    it("reads the current inputs from a file", async function () {
      const { make, oracle } = await loadFixture(reporterFixture);
      const dir = mkdtempSync(path.join(os.tmpdir(), "tokenpit-"));
      const file = path.join(dir, "snapshot.json");
      writeFileSync(file, JSON.stringify(await snapshotJson()));
      const outcomes = await make({ source: new SnapshotSource(file) }).tick();
      expect(outcomes.map((o) => o.action)).to.deep.equal(["submitted", "submitted"]);
      expect(formatX18((await oracle.peekLatest(AIT))[0])).to.equal("4.046500000000000000");
    });

    it("reads from an http URL, and refuses when the URL fails or serves bad data", async function () {
      const { make, newSender } = await loadFixture(reporterFixture);
      const body = JSON.stringify(await snapshotJson());
      const server = createServer((request, response) => {
        if (request.url === "/snapshot.json") response.end(body);
        else if (request.url === "/bad.json") response.end(JSON.stringify({ asOf: "x" }));
        else {
          response.statusCode = 503;
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const ok = await make({
          source: new SnapshotSource(`${base}/snapshot.json`),
          sender: newSender({ dryRun: true }),
        }).tick();
        expect(ok.map((o) => o.action)).to.deep.equal(["dry-run", "dry-run"]);
        const down = await make({ source: new SnapshotSource(`${base}/down.json`) }).tick();
        expect(down[0].action).to.equal("refused");
        expect(down[0].reason).to.match(/HTTP 503/);
        const bad = await make({ source: new SnapshotSource(`${base}/bad.json`) }).tick();
        expect(bad[0].reason).to.match(/ait/);
      } finally {
        server.close();
      }
    });
  });
});
