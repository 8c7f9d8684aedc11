/**
 * `npm run deploy` (scripts/lib/deploy): the whole system in order, the role hand-over, the deployment file, and
 * the journal that makes the deployment resumable (interrupted half way, it finishes on the next run) and
 * idempotent (on a finished deployment it sends nothing).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { Wallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Clearinghouse__factory, IndexOracle__factory, TokenpitTimelock__factory } from "../../typechain-types";
import { DEPLOY_DEFAULTS, localDeployParams, localReporterKeys } from "../../config/deploy";
import type { DeployParams } from "../../config/deploy";
import { readDeployment } from "../../config/deployments";
import { deploySystem } from "../../scripts/lib/deploy/deploySystem";
import { DeployJournalError, DeploymentInterrupted } from "../../scripts/lib/deploy/journal";
import { feedIdOf } from "../../sdk";
import { rejectionOf } from "../helpers/rejection";

function tempFiles(label: string): { deploymentFile: string; journalFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tokenpit-deploy-${label}-`));
  return { deploymentFile: path.join(dir, "hardhat.json"), journalFile: path.join(dir, "hardhat.journal.json") };
}

describe("deploySystem", function () {
  let deployer: HardhatEthersSigner;
  let params: DeployParams;
  let snapshot: string;

  before(async function () {
    snapshot = (await hre.network.provider.send("evm_snapshot", [])) as string;
    const signers = await ethers.getSigners();
    deployer = signers[0];
    params = localDeployParams(
      signers.slice(0, 3).map((s) => s.address),
      DEPLOY_DEFAULTS,
    );
  });

  after(async function () {
    await hre.network.provider.send("evm_revert", [snapshot]);
  });

  describe("a first run", function () {
    let files: ReturnType<typeof tempFiles>;
    let sent: number;
    let nonceBefore: number;

    before(async function () {
      files = tempFiles("fresh");
      nonceBefore = await deployer.getNonce();
      sent = (await deploySystem({ hre, deployer, params, ...files })).counters.sent;
    });

    it("deploys every contract and writes a valid deployment file naming them", async function () {
      const deployment = readDeployment(files.deploymentFile);
      expect(deployment.chainId).to.equal(31_337);
      expect(deployment.deployer).to.equal(deployer.address);
      const addresses = [
        deployment.collateral.address,
        ...Object.values(deployment.contracts).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v))),
      ];
      expect(addresses).to.have.length(1 + 4 + 2 + 6);
      for (const address of addresses) expect(await ethers.provider.getCode(address), address).to.not.equal("0x");
      expect(deployment.collateral).to.include({ symbol: "USDC", decimals: 6, mock: true });
      expect(deployment.compiler).to.deep.equal({
        version: "0.8.28",
        evmVersion: "cancun",
        optimizer: { enabled: true, runs: 1_000 },
      });
      expect(deployment.endBlock).to.be.greaterThan(deployment.startBlock);
      expect(sent).to.equal((await deployer.getNonce()) - nonceBefore);
    });

    it("lists three months of each product and records their ids and expiries", async function () {
      const deployment = readDeployment(files.deploymentFile);
      const ch = Clearinghouse__factory.connect(deployment.contracts.clearinghouse, ethers.provider);
      expect(deployment.series.map((s) => s.feed)).to.deep.equal(["AIT", "AIT", "AIT", "GPUH", "GPUH", "GPUH"]);
      for (const series of deployment.series) {
        const spec = await ch.seriesSpec(series.id);
        expect(ethers.decodeBytes32String(spec.symbol)).to.equal(series.symbol);
        expect(Number(spec.expiry)).to.equal(series.expiry);
        expect(spec.feedId).to.equal(feedIdOf(series.feed));
      }
      expect(await ch.insuranceFeeShareBps()).to.equal(BigInt(params.insuranceFeeShareBps));
    });

    it("hands every admin role to the timelock, the guardian role to the guardian, and leaves the deployer none", async function () {
      const deployment = readDeployment(files.deploymentFile);
      const ch = Clearinghouse__factory.connect(deployment.contracts.clearinghouse, ethers.provider);
      const oracle = IndexOracle__factory.connect(deployment.contracts.oracle, ethers.provider);
      const timelock = deployment.contracts.timelock;
      for (const role of [await ch.DEFAULT_ADMIN_ROLE(), await ch.MARKET_ADMIN_ROLE()]) {
        expect(await ch.hasRole(role, timelock)).to.equal(true);
        expect(await ch.hasRole(role, deployer.address)).to.equal(false);
      }
      expect(await ch.hasRole(await ch.GUARDIAN_ROLE(), params.guardian)).to.equal(true);
      expect(await ch.hasRole(await ch.GUARDIAN_ROLE(), deployer.address)).to.equal(false);
      for (const role of [await oracle.DEFAULT_ADMIN_ROLE(), await oracle.ORACLE_ADMIN_ROLE()]) {
        expect(await oracle.hasRole(role, timelock)).to.equal(true);
        expect(await oracle.hasRole(role, deployer.address)).to.equal(false);
      }
      const tl = TokenpitTimelock__factory.connect(timelock, ethers.provider);
      expect(await tl.getMinDelay()).to.equal(BigInt(params.timelockDelaySec));
      expect(await tl.hasRole(await tl.PROPOSER_ROLE(), params.governors[0])).to.equal(true);
      expect(await tl.hasRole(await tl.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    });

    it("gives each feed the configured reporters and quorum", async function () {
      const deployment = readDeployment(files.deploymentFile);
      const oracle = IndexOracle__factory.connect(deployment.contracts.oracle, ethers.provider);
      const reporters = localReporterKeys().map((key) => new Wallet(key).address);
      for (const feedId of Object.values(deployment.feeds)) {
        expect(await oracle.reportersOf(feedId)).to.deep.equal(reporters);
        expect((await oracle.feedConfig(feedId)).quorum).to.equal(BigInt(params.quorum));
      }
    });

    it("sends nothing when run again on the finished deployment, and writes the same file", async function () {
      const before = fs.readFileSync(files.deploymentFile, "utf8");
      const nonce = await deployer.getNonce();
      const { counters } = await deploySystem({ hre, deployer, params, ...files });
      expect(counters).to.deep.include({ sent: 0, resumed: 0 });
      expect(counters.skipped).to.be.greaterThan(20);
      expect(await deployer.getNonce()).to.equal(nonce);
      expect(fs.readFileSync(files.deploymentFile, "utf8")).to.equal(before);
    });
  });

  describe("an interrupted run", function () {
    for (const phase of ["mined", "sent"] as const) {
      it(`finishes on the next run when stopped after the 12th transaction was ${phase}, with no step repeated`, async function () {
        const files = tempFiles(`interrupted-${phase}`);
        const nonce = await deployer.getNonce();
        const interrupted = await rejectionOf(
          deploySystem({ hre, deployer, params, ...files, interruptAfter: { steps: 12, phase } }),
        );
        expect(interrupted).to.be.instanceOf(DeploymentInterrupted);
        expect(fs.existsSync(files.deploymentFile), "no deployment file before the end").to.equal(false);
        expect((await deployer.getNonce()) - nonce).to.equal(12);
        const { counters, deployment } = await deploySystem({ hre, deployer, params, ...files });
        // The broadcast of the stopped run is waited for, not sent again.
        expect(counters.resumed).to.equal(phase === "sent" ? 1 : 0);
        const total = (await deployer.getNonce()) - nonce;
        const clean = await deploySystem({ hre, deployer, params, ...tempFiles(`clean-${phase}`) });
        expect(total, "transactions of both runs = those of one clean run").to.equal(clean.counters.sent);
        expect(deployment.series.map((s) => s.symbol)).to.deep.equal(clean.deployment.series.map((s) => s.symbol));
        const ch = Clearinghouse__factory.connect(deployment.contracts.clearinghouse, ethers.provider);
        expect(await ch.hasRole(await ch.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
      });
    }
  });

  describe("journal errors", function () {
    it("refuses a journal whose contracts are not on the chain (a restarted local node)", async function () {
      const files = tempFiles("stale");
      fs.writeFileSync(
        files.journalFile,
        JSON.stringify({
          format: 1,
          chainId: 31_337,
          steps: [{ key: "collateral", status: "done", address: Wallet.createRandom().address, block: 1 }],
        }),
      );
      const error = await rejectionOf(deploySystem({ hre, deployer, params, ...files }));
      expect(error).to.be.instanceOf(DeployJournalError);
      expect(error.message).to.match(/no code there/);
    });

    it("refuses the journal of another chain", async function () {
      const files = tempFiles("chain");
      fs.writeFileSync(files.journalFile, JSON.stringify({ format: 1, chainId: 1, steps: [] }));
      const error = await rejectionOf(deploySystem({ hre, deployer, params, ...files }));
      expect(error).to.be.instanceOf(DeployJournalError);
      expect(error.message).to.match(/journal of chain 1, but the network is chain 31337/);
    });
  });
});
