/**
 * `npm run list-series`: listing the contract months that come due after the deployment, through the timelock
 * (scheduled on a first run, executed by a run after the delay), and the deployment file rewritten with them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { Clearinghouse__factory } from "../../typechain-types";
import { DEPLOY_DEFAULTS, localDeployParams } from "../../config/deploy";
import { contractMonthTimes } from "../../config/series";
import { readDeployment } from "../../config/deployments";
import { deploySystem } from "../../scripts/lib/deploy/deploySystem";
import { listDueSeries } from "../../scripts/lib/deploy/listSeries";
import { rejectionOf } from "../helpers/rejection";

describe("listDueSeries", function () {
  let snapshot: string;

  before(async function () {
    snapshot = (await hre.network.provider.send("evm_snapshot", [])) as string;
  });

  after(async function () {
    await hre.network.provider.send("evm_revert", [snapshot]);
  });

  it("schedules the next months through the timelock, waits for the delay, executes them, then has nothing to do", async function () {
    const signers = await ethers.getSigners();
    const [deployer, governor, stranger] = [signers[0], signers[1], signers[5]];
    const params = localDeployParams(
      signers.slice(0, 3).map((s) => s.address),
      DEPLOY_DEFAULTS,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-list-"));
    const deploymentFile = path.join(dir, "hardhat.json");
    await deploySystem({ hre, deployer, params, deploymentFile, journalFile: path.join(dir, "journal.json") });
    const first = readDeployment(deploymentFile);
    expect(await listDueSeries({ hre, signer: governor, deployment: first, deploymentFile, months: 3 })).to.deep.equal(
      [],
    );

    // Into the first listed month's averaging window: one month more of each product is due.
    const [year, month] = first.series[0].symbol.split("-").slice(1).map(Number);
    await time.increaseTo(contractMonthTimes(year, month).windowStart + 60);
    const refused = await rejectionOf(
      listDueSeries({ hre, signer: stranger, deployment: first, deploymentFile, months: 3 }),
    );
    expect(refused.message).to.match(/neither MARKET_ADMIN_ROLE nor the timelock's PROPOSER_ROLE/);
    const scheduled = await listDueSeries({ hre, signer: governor, deployment: first, deploymentFile, months: 3 });
    expect(scheduled.map((o) => o.action)).to.deep.equal(["scheduled", "scheduled"]);
    const dueSymbols = scheduled.map((o) => o.symbol);
    expect(dueSymbols.map((s) => s.split("-")[0])).to.deep.equal(["AIT", "GPUH"]);
    const waiting = await listDueSeries({ hre, signer: governor, deployment: first, deploymentFile, months: 3 });
    expect(waiting.map((o) => o.action)).to.deep.equal(["waiting", "waiting"]);
    expect(readDeployment(deploymentFile).series).to.have.length(6);

    await time.increaseTo(scheduled[0].readyAtSec!);
    const executed = await listDueSeries({ hre, signer: governor, deployment: first, deploymentFile, months: 3 });
    expect(executed.map((o) => o.action)).to.deep.equal(["executed", "executed"]);
    const after = readDeployment(deploymentFile);
    expect(after.series.map((s) => s.symbol).slice(6)).to.deep.equal(dueSymbols);
    const ch = Clearinghouse__factory.connect(after.contracts.clearinghouse, ethers.provider);
    expect(await ch.seriesCount()).to.equal(8n);
    expect(await listDueSeries({ hre, signer: governor, deployment: after, deploymentFile, months: 3 })).to.deep.equal(
      [],
    );
  });
});
