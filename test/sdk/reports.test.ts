/**
 * The EIP-712 report helpers of sdk/oracle/reports.ts for oracle reporters: the digest equals the oracle's, a signed
 * report recovers to its signer and verifies, a tampered or foreign one does not, and the oracle accepts what the
 * helpers sign (and refuses a report signed for another oracle with the decoded error).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  ORACLE_DOMAIN_NAME,
  ORACLE_DOMAIN_VERSION,
  ReportSignatureError,
  ReportWrongOracleError,
  feedIdOf,
  oracleTypedDataDomain,
  parseX18,
  recoverReportSigner,
  reportDigest,
  signReport,
  toSdkError,
  verifyReport,
} from "../../sdk";
import type { Report } from "../../sdk";
import { deployedSystem } from "../fixtures/system";

async function setup() {
  const s = await deployedSystem();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return { ...s, domain: { chainId, oracle: await s.oracle.getAddress() } };
}

function reportAt(observedAt: bigint, price = "4.1"): Report {
  return {
    feedId: feedIdOf("AIT"),
    priceX18: parseX18(price),
    observedAt,
    methodologyVersion: 1,
    sourceHash: keccak256(toUtf8Bytes(`reports-test-${observedAt}`)),
  };
}

describe("sdk/oracle/reports (EIP-712 reports)", function () {
  it("the domain is the oracle's, and the digest equals IndexOracle.reportDigest", async function () {
    const s = await loadFixture(setup);
    expect(oracleTypedDataDomain(s.domain)).to.deep.equal({
      name: ORACLE_DOMAIN_NAME,
      version: ORACLE_DOMAIN_VERSION,
      chainId: s.domain.chainId,
      verifyingContract: s.domain.oracle,
    });
    const report = reportAt(1_800_000_000n);
    expect(reportDigest(s.domain, report)).to.equal(await s.oracle.reportDigest(report));
    expect(feedIdOf("AIT")).to.equal(s.deployment.feeds.AIT);
  });

  it("a signed report recovers to its signer and verifies; a tampered or foreign one is refused", async function () {
    const s = await loadFixture(setup);
    const [reporter, other] = s.reporters;
    const signed = await signReport(reporter, s.domain, reportAt(1_800_000_000n));
    expect(signed).to.include({ chainId: s.domain.chainId, oracle: s.domain.oracle });
    expect(recoverReportSigner(signed)).to.equal(reporter.address);
    expect(() => verifyReport(signed, reporter.address.toLowerCase())).not.to.throw();
    expect(() => verifyReport(signed, other.address)).to.throw(ReportSignatureError, /expected/);
    const tampered = { ...signed, report: { ...signed.report, priceX18: parseX18("9") } };
    expect(recoverReportSigner(tampered)).not.to.equal(reporter.address);
    expect(() => verifyReport(tampered, reporter.address)).to.throw(ReportSignatureError);
  });

  it("the oracle accepts a quorum signed by the helpers and refuses a report for another oracle, decoded", async function () {
    const s = await loadFixture(setup);
    const observedAt = BigInt(await time.latest()) + 1_000n;
    const reports = await Promise.all(
      s.reporters.slice(0, 3).map((r) => signReport(r, s.domain, reportAt(observedAt))),
    );
    await time.setNextBlockTimestamp(observedAt);
    await (await s.oracle.submit(feedIdOf("AIT"), reports)).wait();
    expect((await s.oracle.latestPrice(feedIdOf("AIT")))[0]).to.equal(parseX18("4.1"));

    const foreign = { ...s.domain, oracle: Wallet.createRandom().address };
    const later = observedAt + 1_000n;
    const wrong = await Promise.all(s.reporters.slice(0, 3).map((r) => signReport(r, foreign, reportAt(later))));
    await time.setNextBlockTimestamp(later);
    const error = toSdkError(
      await s.oracle.submit(feedIdOf("AIT"), wrong).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(error).to.be.instanceOf(ReportWrongOracleError);
    expect(error).to.include({ index: 0n, oracle: foreign.oracle, expectedOracle: s.domain.oracle });
  });
});
