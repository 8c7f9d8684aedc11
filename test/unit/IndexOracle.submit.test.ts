import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, toBeHex } from "ethers";
import { IndexOracle__factory } from "../../typechain-types";
import { median, parseX18, reportDigest } from "../../sdk";
import {
  AIT,
  DEFAULT_PARAMS,
  GPUH,
  agreeing,
  deployOracleFixture,
  signRound,
  submitRoundAfter,
} from "../fixtures/oracle";

/** secp256k1 group order: s' = n - s is the malleable twin of a signature. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("IndexOracle #submit", function () {
  describe("accepted rounds (ORC-01)", function () {
    it("accepts a quorum of distinct reporters and stores their median", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const prices = [parseX18("4.05"), parseX18("4.00"), parseX18("4.10")];
      const { tx, observedAt } = await submitRoundAfter(oracle, reporters, prices, 60n);
      await expect(tx).to.emit(oracle, "RoundAccepted").withArgs(AIT, 1n, parseX18("4.05"), observedAt, 0b1110n);
      const [priceX18, at] = await oracle.latestPrice(AIT);
      expect(priceX18).to.equal(parseX18("4.05"));
      expect(at).to.equal(observedAt);
    });

    it("takes the mean of the two middle prices for an even count, rounded down", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const prices = [4n, 1n, 3n, 2n].map((p) => parseX18("4") + p);
      await submitRoundAfter(oracle, reporters, prices, 60n);
      const [priceX18] = await oracle.latestPrice(AIT);
      expect(priceX18).to.equal(parseX18("4") + 2n); // (2 + 3) / 2 = 2.5, rounded down
      expect(priceX18).to.equal(median(prices));
    });

    it("lets anyone transmit, and any quorum subset of reporters sign", async function () {
      const { oracle, reporters, stranger } = await loadFixture(deployOracleFixture);
      await time.increase(60);
      const observedAt = BigInt(await time.latest());
      const subset = [reporters[4], reporters[2], reporters[0]];
      const reports = await signRound(oracle, subset, agreeing("4.0465"), { observedAt });
      await expect(oracle.connect(stranger).submit(AIT, reports))
        .to.emit(oracle, "RoundAccepted")
        .withArgs(AIT, 1n, parseX18("4.0465"), observedAt, (1n << 5n) | (1n << 3n) | (1n << 1n));
    });

    it("matches the SDK's EIP-712 digest", async function () {
      const { oracle, domain } = await loadFixture(deployOracleFixture);
      const report = {
        feedId: AIT,
        priceX18: parseX18("4.0465"),
        observedAt: 1_780_000_000n,
        methodologyVersion: 1,
        sourceHash: ethers.id("source"),
      };
      expect(await oracle.reportDigest(report)).to.equal(reportDigest(domain, report));
    });
  });

  describe("refused rounds, each with its own error (ORC-02)", function () {
    it("reverts when fewer reports than the quorum are submitted", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, reporters, agreeing("4", 2));
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "QuorumNotMet")
        .withArgs(AIT, 2, 3);
    });

    it("reverts when more reports than reporters are submitted", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, reporters, agreeing("4", 6));
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "TooManyReports")
        .withArgs(AIT, 6, 5);
    });

    it("reverts for an unknown feed", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, reporters, agreeing("4"), { feedId: GPUH });
      await expect(oracle.submit(GPUH, reports)).to.be.revertedWithCustomError(oracle, "UnknownFeed").withArgs(GPUH);
    });

    it("reverts when a report was signed for another feed", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const observedAt = BigInt(await time.latest());
      const good = await signRound(oracle, reporters, agreeing("4", 2), { observedAt });
      const [wrongFeed] = await signRound(oracle, [reporters[2]], agreeing("4", 1), { observedAt, feedId: GPUH });
      await expect(oracle.submit(AIT, [...good, wrongFeed]))
        .to.be.revertedWithCustomError(oracle, "ReportFeedMismatch")
        .withArgs(2, GPUH, AIT);
    });

    it("reverts when a report was signed for another chain", async function () {
      const { oracle, reporters, domain } = await loadFixture(deployOracleFixture);
      const observedAt = BigInt(await time.latest());
      const good = await signRound(oracle, reporters, agreeing("4", 2), { observedAt });
      const [otherChain] = await signRound(oracle, [reporters[2]], agreeing("4", 1), {
        observedAt,
        domain: { ...domain, chainId: 1n },
      });
      await expect(oracle.submit(AIT, [...good, otherChain]))
        .to.be.revertedWithCustomError(oracle, "ReportWrongChain")
        .withArgs(2, 1n, domain.chainId);
      // Claiming this chain for a signature made for chain 1 recovers a stranger.
      const relabelled = { ...otherChain, chainId: domain.chainId };
      await expect(oracle.submit(AIT, [...good, relabelled])).to.be.revertedWithCustomError(
        oracle,
        "SignerNotAuthorized",
      );
    });

    it("reverts when a report was signed for another deployment", async function () {
      const { oracle, reporters, domain, admin, deployer } = await loadFixture(deployOracleFixture);
      const other = await new IndexOracle__factory(deployer).deploy(admin.address, admin.address);
      const otherAddress = await other.getAddress();
      const observedAt = BigInt(await time.latest());
      const good = await signRound(oracle, reporters, agreeing("4", 2), { observedAt });
      const [otherDeployment] = await signRound(oracle, [reporters[2]], agreeing("4", 1), {
        observedAt,
        domain: { ...domain, oracle: otherAddress },
      });
      await expect(oracle.submit(AIT, [...good, otherDeployment]))
        .to.be.revertedWithCustomError(oracle, "ReportWrongOracle")
        .withArgs(2, otherAddress, domain.oracle);
      const relabelled = { ...otherDeployment, oracle: domain.oracle };
      await expect(oracle.submit(AIT, [...good, relabelled])).to.be.revertedWithCustomError(
        oracle,
        "SignerNotAuthorized",
      );
    });

    it("reverts when reports disagree on the observation time", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const observedAt = BigInt(await time.latest());
      const good = await signRound(oracle, reporters, agreeing("4", 2), { observedAt });
      const [late] = await signRound(oracle, [reporters[2]], agreeing("4", 1), { observedAt: observedAt - 1n });
      await expect(oracle.submit(AIT, [...good, late]))
        .to.be.revertedWithCustomError(oracle, "ReportRoundMismatch")
        .withArgs(2, observedAt - 1n, observedAt);
    });

    it("reverts when a report carries another methodology version", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, reporters, agreeing("4"), { methodologyVersion: 2 });
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "ReportMethodologyMismatch")
        .withArgs(0, 2, 1);
    });

    it("reverts for a zero price and for a price above the maximum", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const max = await oracle.MAX_PRICE_X18();
      const zero = await signRound(oracle, reporters, [parseX18("4"), 0n, parseX18("4")]);
      await expect(oracle.submit(AIT, zero))
        .to.be.revertedWithCustomError(oracle, "ReportPriceOutOfBounds")
        .withArgs(1, 0n, max);
      const huge = await signRound(oracle, reporters, [parseX18("4"), parseX18("4"), max + 1n]);
      await expect(oracle.submit(AIT, huge))
        .to.be.revertedWithCustomError(oracle, "ReportPriceOutOfBounds")
        .withArgs(2, max + 1n, max);
    });

    it("reverts for a round observed in the future", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const future = BigInt(await time.latest()) + 100n;
      const reports = await signRound(oracle, reporters, agreeing("4"), { observedAt: future });
      await expect(oracle.submit(AIT, reports)).to.be.revertedWithCustomError(oracle, "ReportFromFuture");
    });

    it("reverts for a round older than the max age, and accepts one exactly at it", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const observedAt = BigInt(await time.latest());
      const reports = await signRound(oracle, reporters, agreeing("4"), { observedAt });
      await time.setNextBlockTimestamp(observedAt + DEFAULT_PARAMS.maxAgeSec + 1n);
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "ReportStale")
        .withArgs(AIT, observedAt, DEFAULT_PARAMS.maxAgeSec);
      const fresh = BigInt(await time.latest());
      const atLimit = await signRound(oracle, reporters, agreeing("4"), { observedAt: fresh });
      await time.setNextBlockTimestamp(fresh + DEFAULT_PARAMS.maxAgeSec);
      await expect(oracle.submit(AIT, atLimit)).to.emit(oracle, "RoundAccepted");
    });

    it("reverts when the same round is submitted again (replay)", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const { reports, observedAt } = await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
      await time.increase(DEFAULT_PARAMS.minIntervalSec);
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "ReportReplayed")
        .withArgs(AIT, observedAt);
    });

    it("reverts for a round older than the last one (out of order)", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const older = BigInt(await time.latest());
      const stale = await signRound(oracle, reporters, agreeing("4"), { observedAt: older });
      const { observedAt } = await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
      await expect(oracle.submit(AIT, stale))
        .to.be.revertedWithCustomError(oracle, "ReportOutOfOrder")
        .withArgs(AIT, older, observedAt);
    });

    it("reverts for a round sooner than the minimum interval after the last", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const { observedAt } = await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
      await time.increase(DEFAULT_PARAMS.minIntervalSec);
      const soon = await signRound(oracle, reporters, agreeing("4"), { observedAt: observedAt + 899n });
      await expect(oracle.submit(AIT, soon))
        .to.be.revertedWithCustomError(oracle, "RoundTooSoon")
        .withArgs(AIT, observedAt + 899n, observedAt + 900n);
    });

    it("reverts for a signer who is not a reporter of the feed", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const outsider = reporters[6]; // a reporter identity not in the AIT set
      const reports = await signRound(oracle, [reporters[0], reporters[1], outsider], agreeing("4"));
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "SignerNotAuthorized")
        .withArgs(AIT, outsider.address);
    });

    it("reverts when one reporter signs twice", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const observedAt = BigInt(await time.latest());
      const reports = await signRound(oracle, [reporters[0], reporters[1], reporters[1]], agreeing("4"), {
        observedAt,
      });
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "DuplicateSigner")
        .withArgs(AIT, reporters[1].address);
    });

    it("reverts for the malleable high-s twin of a valid signature", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, reporters, agreeing("4"));
      const twin = {
        ...reports[1],
        s: toBeHex(SECP256K1_N - BigInt(reports[1].s), 32),
        v: reports[1].v === 27 ? 28 : 27,
      };
      await expect(oracle.submit(AIT, [reports[0], twin, reports[2]]))
        .to.be.revertedWithCustomError(oracle, "ReportSignatureMalleable")
        .withArgs(1);
    });

    it("reverts for a signature that recovers no address", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, reporters, agreeing("4"));
      const badV = { ...reports[2], v: 29 };
      await expect(oracle.submit(AIT, [reports[0], reports[1], badV]))
        .to.be.revertedWithCustomError(oracle, "ReportSignatureInvalid")
        .withArgs(2);
      const zeroR = { ...reports[2], r: ethers.ZeroHash };
      await expect(oracle.submit(AIT, [reports[0], reports[1], zeroR]))
        .to.be.revertedWithCustomError(oracle, "ReportSignatureInvalid")
        .withArgs(2);
    });

    it("reverts for reports of a removed reporter", async function () {
      const { oracle, reporters, admin } = await loadFixture(deployOracleFixture);
      const reports = await signRound(oracle, [reporters[0], reporters[1], reporters[2]], agreeing("4"));
      await oracle.connect(admin).setReporters(
        AIT,
        [reporters[1], reporters[2], reporters[3], reporters[4], reporters[5]].map((r) => r.address),
        3,
      );
      await expect(oracle.submit(AIT, reports))
        .to.be.revertedWithCustomError(oracle, "SignerNotAuthorized")
        .withArgs(AIT, reporters[0].address);
    });

    it("changes nothing when it reverts", async function () {
      const { oracle, reporters } = await loadFixture(deployOracleFixture);
      await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
      const before = await oracle.feedState(AIT);
      const reports = await signRound(oracle, [reporters[0], reporters[0], reporters[1]], agreeing("5"));
      await time.increase(DEFAULT_PARAMS.minIntervalSec);
      await expect(oracle.submit(AIT, reports)).to.be.revertedWithCustomError(oracle, "RoundTooSoon");
      expect(await oracle.feedState(AIT)).to.deep.equal(before);
    });
  });

  it("uses deterministic reporter identities distinct from Hardhat's accounts", async function () {
    const { reporters } = await loadFixture(deployOracleFixture);
    const accounts = (await ethers.getSigners()).map((s) => s.address);
    for (const reporter of reporters) expect(accounts).to.not.include(reporter.address);
    expect(reporters[0]).to.be.instanceOf(Wallet);
  });
});
