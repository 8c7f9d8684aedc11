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
import type { ReporterSettings } from "../../keepers/oracle-reporter/reporter";
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
    dryRun: false,
    sendAttempts: 2,
  };
  const make = (
    overrides: Partial<ReporterSettings> = {},
    source: IndexSource = editableSource(),
    signers = reporters.slice(0, 3),
  ) =>
    new OracleReporter({
      oracle,
      provider: ethers.provider,
      signers,
      source,
      logger: createLogger("test-reporter", "silent"),
      settings: { ...settings, ...overrides },
    });
  return { oracle, reporters, data, editableSource, make, deployer };
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
    const reporter = make({ feeds: ["AIT"] }, editable);
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
    const reporter = make({ feeds: ["AIT"] }, editable);
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
    const outcomes = await make({}, editable).tick();
    expect(outcomes[0].action).to.equal("refused");
    expect(outcomes[0].reason).to.match(/outside \[0.001, 500\]/);
    expect(outcomes[1].action).to.equal("submitted");
    expect((await oracle.feedState(AIT)).roundCount).to.equal(0n);
  });

  it("signs and simulates but sends nothing in dry-run mode (KPR-05)", async function () {
    const { oracle, make } = await loadFixture(reporterFixture);
    const outcomes = await make({ dryRun: true }).tick();
    expect(outcomes.map((o) => o.action)).to.deep.equal(["dry-run", "dry-run"]);
    expect((await oracle.feedState(AIT)).roundCount).to.equal(0n);
  });

  it("refuses data of another methodology version than the oracle's", async function () {
    const { oracle, make, deployer } = await loadFixture(reporterFixture);
    await oracle.connect(deployer).setMethodologyVersion(AIT, 2);
    const [outcome] = await make({ feeds: ["AIT"] }).tick();
    expect(outcome.action).to.equal("refused");
    expect(outcome.reason).to.equal("methodology v1 of the data, oracle expects v2");
  });

  it("does not send a round whose simulation reverts, and names the contract error", async function () {
    const { make } = await loadFixture(reporterFixture);
    const strangers = Array.from({ length: 3 }, () => Wallet.createRandom());
    const [outcome] = await make({ feeds: ["AIT"] }, undefined, strangers as unknown as Wallet[]).tick();
    expect(outcome.action).to.equal("refused");
    expect(outcome.reason).to.match(/^SignerNotAuthorized\(/);
  });

  it("never sends a duplicate round when restarted or racing another instance (KPR-06)", async function () {
    const { oracle, make } = await loadFixture(reporterFixture);
    const a = make();
    const b = make(); // a second process with the same keys, or the first one after a restart
    await a.tick();
    const outcomes = await b.tick();
    expect(outcomes.map((o) => o.action)).to.deep.equal(["skipped", "skipped"]);
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
      const outcomes = await make({}, new SnapshotSource(file)).tick();
      expect(outcomes.map((o) => o.action)).to.deep.equal(["submitted", "submitted"]);
      expect(formatX18((await oracle.peekLatest(AIT))[0])).to.equal("4.046500000000000000");
    });

    it("reads from an http URL, and refuses when the URL fails or serves bad data", async function () {
      const { make } = await loadFixture(reporterFixture);
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
        const ok = await make({ dryRun: true }, new SnapshotSource(`${base}/snapshot.json`)).tick();
        expect(ok.map((o) => o.action)).to.deep.equal(["dry-run", "dry-run"]);
        const down = await make({}, new SnapshotSource(`${base}/down.json`)).tick();
        expect(down[0].action).to.equal("refused");
        expect(down[0].reason).to.match(/HTTP 503/);
        const bad = await make({}, new SnapshotSource(`${base}/bad.json`)).tick();
        expect(bad[0].reason).to.match(/ait/);
      } finally {
        server.close();
      }
    });
  });
});
