/**
 * The demo end to end (`npm run demo`, scripts/lib/demo), in its short version: reporter passes every 4 hours
 * instead of every hour; the same deployment, accounts, trades, -50% AIT shock, keepers, settlement and withdrawals.
 * The chain is restored afterwards (evm_snapshot / evm_revert).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre from "hardhat";
import { runDemoStory } from "../../scripts/lib/demo/story";
import { buildReport, formatReport, reportJson } from "../../scripts/lib/demo/report";
import type { DemoReport } from "../../scripts/lib/demo/report";
import { demoPassed } from "../../scripts/lib/demo/runDemo";
import { Progress } from "../../scripts/lib/demo/progress";

describe("Demo market (short version of npm run demo)", function () {
  this.timeout(300_000);
  let snapshot: string;
  let report: DemoReport;
  const progressLines: string[] = [];

  before(async function () {
    snapshot = (await hre.network.provider.send("evm_snapshot", [])) as string;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-demo-test-"));
    const stream = { isTTY: false, write: (text: string) => progressLines.push(text) } as unknown as NodeJS.WriteStream;
    const outcome = await runDemoStory({
      hre,
      deploymentFile: path.join(dir, "hardhat.json"),
      journalFile: path.join(dir, "hardhat.journal.json"),
      passHours: 4,
      shockBps: 5_000n,
      progress: new Progress(5, stream),
    });
    report = await buildReport(hre, outcome);
  });

  after(async function () {
    if (snapshot !== undefined) await hre.network.provider.send("evm_revert", [snapshot]);
  });

  it("reports every phase with its counts", function () {
    expect(progressLines.map((line) => line.split(":")[0])).to.deep.equal([
      "[1/5] deploy",
      "[2/5] accounts",
      "[3/5] market",
      "[4/5] settlement",
      "[5/5] withdrawals",
    ]);
    expect(report.oracleRounds).to.be.greaterThan(100);
  });

  it("trades both front series, with fees into the fee pool and the insurance fund", function () {
    expect(report.trades.fills).to.be.greaterThan(50);
    expect(report.trades.volumeX18).to.be.greaterThan(0n);
    expect(report.trades.feesX18).to.be.greaterThan(0n);
    expect(report.feePoolX18).to.be.greaterThan(0n);
  });

  it("liquidates the over-leveraged traders and the insurance fund pays the bankrupt one's deficit in full", function () {
    expect(report.liquidations.count).to.be.greaterThan(0);
    expect(report.liquidations.keeperRewardsX18).to.be.greaterThan(0n);
    expect(report.deficits.count).to.be.greaterThan(0);
    expect(report.deficits.fromInsuranceX18).to.equal(report.deficits.deficitX18);
    expect(report.deficits.uncoveredX18).to.equal(0n);
    const bankrupt = report.accounts.find((a) => a.name.startsWith("trader-3"))!;
    expect(bankrupt.liquidations).to.be.greaterThan(0);
    expect(bankrupt.withdrawnRaw).to.equal(0n);
  });

  it("settles both front series at the TWAP recomputed from the oracle's events, every account settled", function () {
    expect(report.settlements).to.have.length(2);
    for (const settlement of report.settlements) {
      expect(settlement.priceX18, settlement.symbol).to.equal(settlement.modelTwapX18);
      expect(settlement.accountsSettled).to.be.greaterThan(0);
    }
  });

  it("lets every account withdraw, leaving less than one token unit of cash each, and conserves collateral to the unit", function () {
    for (const account of report.accounts) {
      expect(account.residualCashX18 >= 0n && account.residualCashX18 < 10n ** 12n, account.name).to.equal(true);
    }
    const c = report.conservation;
    expect(c.tokensInRaw - c.tokensOutRaw).to.equal(c.heldRaw);
    expect(c.ledgerBalances).to.equal(true);
    expect(c.openInterestQty).to.equal(0n);
    expect(demoPassed(report)).to.equal(true);
    expect(formatReport(report)).to.include("CONSERVED to the unit");
    expect(JSON.parse(reportJson(report)).conservation.holds).to.equal(true);
  });
});
