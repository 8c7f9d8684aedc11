import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { IndexOracle__factory } from "../../typechain-types";
import {
  AIT,
  DEFAULT_PARAMS,
  GPUH,
  agreeing,
  deployOracleFixture,
  reporterWallets,
  submitRoundAfter,
} from "../fixtures/oracle";

describe("IndexOracle admin (ORC-08)", function () {
  describe("#createFeed", function () {
    it("creates a feed and emits its configuration", async function () {
      const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
      const addresses = reporters.slice(0, 3).map((r) => r.address);
      await expect(oracle.connect(admin).createFeed(GPUH, DEFAULT_PARAMS, 3, addresses, 3))
        .to.emit(oracle, "FeedCreated")
        .withArgs(GPUH, 3)
        .and.to.emit(oracle, "FeedParamsSet")
        .withArgs(GPUH, 86_400, 1_000, 3_600, 900)
        .and.to.emit(oracle, "ReportersSet")
        .withArgs(GPUH, addresses, 3);
      const config = await oracle.feedConfig(GPUH);
      expect(config.exists).to.equal(true);
      expect(config.quorum).to.equal(3n);
      expect(config.reporterCount).to.equal(3n);
      expect(config.methodologyVersion).to.equal(3n);
      expect(await oracle.feedIds()).to.deep.equal([AIT, GPUH]);
      expect(await oracle.reportersOf(GPUH)).to.deep.equal(addresses);
      expect(await oracle.isReporter(GPUH, addresses[0])).to.equal(true);
      expect(await oracle.isReporter(GPUH, reporters[5].address)).to.equal(false);
    });

    it("reverts for a zero id, an existing id and version 0", async function () {
      const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
      const addresses = reporters.slice(0, 3).map((r) => r.address);
      await expect(
        oracle.connect(admin).createFeed(ethers.ZeroHash, DEFAULT_PARAMS, 1, addresses, 3),
      ).to.be.revertedWithCustomError(oracle, "FeedIdIsZero");
      await expect(oracle.connect(admin).createFeed(AIT, DEFAULT_PARAMS, 1, addresses, 3))
        .to.be.revertedWithCustomError(oracle, "FeedAlreadyExists")
        .withArgs(AIT);
      await expect(
        oracle.connect(admin).createFeed(GPUH, DEFAULT_PARAMS, 0, addresses, 3),
      ).to.be.revertedWithCustomError(oracle, "FeedParamOutOfBounds");
    });
  });

  describe("#setFeedParams hard bounds", function () {
    const name = (text: string) => ethers.encodeBytes32String(text);
    const cases: [string, Partial<typeof DEFAULT_PARAMS>, bigint, bigint][] = [
      ["maxAgeSec", { maxAgeSec: 899n }, 900n, 604_800n],
      ["maxAgeSec", { maxAgeSec: 604_801n }, 900n, 604_800n],
      ["jumpGuardBps", { jumpGuardBps: 99n }, 100n, 5_000n],
      ["jumpGuardBps", { jumpGuardBps: 5_001n }, 100n, 5_000n],
      ["confirmDelaySec", { confirmDelaySec: 299n }, 300n, 43_200n],
      ["confirmDelaySec", { confirmDelaySec: 43_201n }, 300n, 43_200n],
      ["minIntervalSec", { minIntervalSec: 899n }, 900n, 43_200n],
      ["minIntervalSec", { minIntervalSec: 43_201n }, 900n, 43_200n],
    ];
    for (const [param, change, min, max] of cases) {
      const value = Object.values(change)[0];
      it(`reverts for ${param} = ${value} (bounds ${min}..${max})`, async function () {
        const { oracle, admin } = await loadFixture(deployOracleFixture);
        await expect(oracle.connect(admin).setFeedParams(AIT, { ...DEFAULT_PARAMS, ...change }))
          .to.be.revertedWithCustomError(oracle, "FeedParamOutOfBounds")
          .withArgs(name(param), value, min, max);
      });
    }

    it("accepts values exactly at the bounds and emits them", async function () {
      const { oracle, admin } = await loadFixture(deployOracleFixture);
      const atBounds = { maxAgeSec: 1_800n, jumpGuardBps: 100n, confirmDelaySec: 900n, minIntervalSec: 900n };
      await expect(oracle.connect(admin).setFeedParams(AIT, atBounds))
        .to.emit(oracle, "FeedParamsSet")
        .withArgs(AIT, 1_800, 100, 900, 900);
      const config = await oracle.feedConfig(AIT);
      expect(config.params.maxAgeSec).to.equal(1_800n);
    });

    it("reverts for an unknown feed", async function () {
      const { oracle, admin } = await loadFixture(deployOracleFixture);
      await expect(oracle.connect(admin).setFeedParams(GPUH, DEFAULT_PARAMS))
        .to.be.revertedWithCustomError(oracle, "UnknownFeed")
        .withArgs(GPUH);
    });
  });

  describe("#setReporters", function () {
    it("replaces the set atomically, so removed reporters lose their slot", async function () {
      const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
      const next = [reporters[5], reporters[6], reporters[0]].map((r) => r.address);
      await expect(oracle.connect(admin).setReporters(AIT, next, 3))
        .to.emit(oracle, "ReportersSet")
        .withArgs(AIT, next, 3);
      expect(await oracle.reportersOf(AIT)).to.deep.equal(next);
      expect(await oracle.isReporter(AIT, reporters[1].address)).to.equal(false);
      expect(await oracle.isReporter(AIT, reporters[5].address)).to.equal(true);
      const config = await oracle.feedConfig(AIT);
      expect(config.reporterCount).to.equal(3n);
    });

    it("reverts for an empty set, more than 31 reporters, zero and duplicate addresses", async function () {
      const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
      await expect(oracle.connect(admin).setReporters(AIT, [], 3))
        .to.be.revertedWithCustomError(oracle, "ReporterCountOutOfBounds")
        .withArgs(0, 31);
      const many = reporterWallets(32, "many").map((r) => r.address);
      await expect(oracle.connect(admin).setReporters(AIT, many, 17))
        .to.be.revertedWithCustomError(oracle, "ReporterCountOutOfBounds")
        .withArgs(32, 31);
      const withZero = [reporters[0].address, ethers.ZeroAddress, reporters[1].address];
      await expect(oracle.connect(admin).setReporters(AIT, withZero, 3)).to.be.revertedWithCustomError(
        oracle,
        "ReporterIsZero",
      );
      const withDuplicate = [reporters[0].address, reporters[1].address, reporters[0].address];
      await expect(oracle.connect(admin).setReporters(AIT, withDuplicate, 3))
        .to.be.revertedWithCustomError(oracle, "ReporterDuplicated")
        .withArgs(reporters[0].address);
    });

    it("requires a quorum that is a strict majority and at least 3", async function () {
      const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
      const six = reporters.slice(0, 6).map((r) => r.address);
      await expect(oracle.connect(admin).setReporters(AIT, six, 3))
        .to.be.revertedWithCustomError(oracle, "QuorumOutOfBounds")
        .withArgs(3, 6, 3);
      await expect(oracle.connect(admin).setReporters(AIT, six, 7))
        .to.be.revertedWithCustomError(oracle, "QuorumOutOfBounds")
        .withArgs(7, 6, 3);
      await expect(oracle.connect(admin).setReporters(AIT, six.slice(0, 2), 2))
        .to.be.revertedWithCustomError(oracle, "QuorumOutOfBounds")
        .withArgs(2, 2, 3);
      await oracle.connect(admin).setReporters(AIT, six, 4);
      expect((await oracle.feedConfig(AIT)).quorum).to.equal(4n);
    });
  });

  describe("#setMethodologyVersion", function () {
    it("only moves forward", async function () {
      const { oracle, admin } = await loadFixture(deployOracleFixture);
      await expect(oracle.connect(admin).setMethodologyVersion(AIT, 1))
        .to.be.revertedWithCustomError(oracle, "MethodologyVersionNotIncreasing")
        .withArgs(1, 1);
      await expect(oracle.connect(admin).setMethodologyVersion(AIT, 2))
        .to.emit(oracle, "MethodologyVersionSet")
        .withArgs(AIT, 2);
    });
  });

  describe("roles (ORC-09)", function () {
    it("reverts every admin function for a stranger and for a reporter", async function () {
      const { oracle, stranger, reporters } = await loadFixture(deployOracleFixture);
      const role = await oracle.ORACLE_ADMIN_ROLE();
      const addresses = reporters.slice(0, 3).map((r) => r.address);
      const calls = [
        () => oracle.connect(stranger).createFeed(GPUH, DEFAULT_PARAMS, 1, addresses, 3),
        () => oracle.connect(stranger).setFeedParams(AIT, DEFAULT_PARAMS),
        () => oracle.connect(stranger).setReporters(AIT, addresses, 3),
        () => oracle.connect(stranger).setMethodologyVersion(AIT, 2),
      ];
      for (const call of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, role);
      }
    });

    it("applies changes through a TimelockController only after its delay", async function () {
      const [deployer, proposer] = await ethers.getSigners();
      const reporters = reporterWallets(5);
      const delay = 2n * 86_400n;
      const timelock = await (
        await ethers.getContractFactory("TokenpitTimelock")
      ).deploy(delay, [proposer.address], [proposer.address], ethers.ZeroAddress);
      const timelockAddress = await timelock.getAddress();
      const oracle = await new IndexOracle__factory(deployer).deploy(timelockAddress, timelockAddress);
      const data = oracle.interface.encodeFunctionData("createFeed", [
        AIT,
        DEFAULT_PARAMS,
        1,
        reporters.map((r) => r.address),
        3,
      ]);
      const target = await oracle.getAddress();
      const salt = ethers.id("create AIT");
      await timelock.connect(proposer).schedule(target, 0, data, ethers.ZeroHash, salt, delay);
      await expect(
        timelock.connect(proposer).execute(target, 0, data, ethers.ZeroHash, salt),
      ).to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState");
      await time.increase(delay);
      await expect(timelock.connect(proposer).execute(target, 0, data, ethers.ZeroHash, salt)).to.emit(
        oracle,
        "FeedCreated",
      );
      await expect(oracle.connect(deployer).setMethodologyVersion(AIT, 2)).to.be.revertedWithCustomError(
        oracle,
        "AccessControlUnauthorizedAccount",
      );
    });
  });

  it("keeps working when a reporter set changes between rounds", async function () {
    const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
    await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
    await oracle.connect(admin).setReporters(
      AIT,
      reporters.slice(2, 7).map((r) => r.address),
      3,
    );
    const { tx } = await submitRoundAfter(oracle, reporters.slice(2, 5), agreeing("4.1"), 3_600n);
    await expect(tx).to.emit(oracle, "RoundAccepted");
  });
});
