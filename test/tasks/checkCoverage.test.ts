/**
 * The coverage gate (scripts/lib/coverageGate.ts): totals summed over contracts/ without mocks, each threshold met
 * or missed at its edge, and the report naming the files below the thresholds.
 */
import { expect } from "chai";
import path from "node:path";
import {
  checkCoverage,
  COVERAGE_THRESHOLDS,
  type CoverageSummary,
  formatCoverage,
  isGatedContract,
  percent,
} from "../../scripts/lib/coverageGate";

const ROOT = path.join(path.sep, "repo");

function entry(lines: [number, number], branches: [number, number]) {
  return {
    lines: { covered: lines[0], total: lines[1], skipped: 0, pct: 0 },
    branches: { covered: branches[0], total: branches[1], skipped: 0, pct: 0 },
  };
}

function at(file: string): string {
  return path.join(ROOT, ...file.split("/"));
}

/** 950/1000 lines and 900/1000 branches over contracts/: exactly at both thresholds. */
function atThresholds(): CoverageSummary {
  return {
    total: entry([0, 1], [0, 1]),
    [at("contracts/core/Clearinghouse.sol")]: entry([500, 500], [500, 500]),
    [at("contracts/core/logic/OrderBookLogic.sol")]: entry([450, 500], [400, 500]),
    [at("contracts/interfaces/IClearinghouse.sol")]: entry([0, 0], [0, 0]),
    [at("contracts/mocks/Harness.sol")]: entry([0, 1000], [0, 1000]),
    [at("scripts/Other.sol")]: entry([0, 1000], [0, 1000]),
  };
}

describe("coverage gate", function () {
  describe("#checkCoverage", function () {
    it("passes exactly at 95% of lines and 90% of branches, summed over contracts/ without mocks", function () {
      const result = checkCoverage(atThresholds(), ROOT);
      expect(result.ok).to.equal(true);
      expect(result.failures).to.deep.equal([]);
      expect(result.lines).to.deep.equal({ covered: 950, total: 1000, pct: 95 });
      expect(result.branches).to.deep.equal({ covered: 900, total: 1000, pct: 90 });
      expect(result.files.map((f) => f.file)).to.deep.equal([
        "contracts/core/Clearinghouse.sol",
        "contracts/core/logic/OrderBookLogic.sol",
        "contracts/interfaces/IClearinghouse.sol",
      ]);
    });

    it("fails one line below the line threshold", function () {
      const summary = atThresholds();
      summary[at("contracts/core/Clearinghouse.sol")] = entry([499, 500], [500, 500]);
      const result = checkCoverage(summary, ROOT);
      expect(result.ok).to.equal(false);
      expect(result.failures).to.deep.equal(["lines 94.90% < 95%"]);
    });

    it("fails one branch below the branch threshold", function () {
      const summary = atThresholds();
      summary[at("contracts/core/Clearinghouse.sol")] = entry([500, 500], [499, 500]);
      const result = checkCoverage(summary, ROOT);
      expect(result.ok).to.equal(false);
      expect(result.failures).to.deep.equal(["branches 89.90% < 90%"]);
    });

    it("fails both, and an empty summary", function () {
      const summary: CoverageSummary = { [at("contracts/A.sol")]: entry([1, 2], [1, 2]) };
      expect(checkCoverage(summary, ROOT).failures).to.deep.equal(["lines 50.00% < 95%", "branches 50.00% < 90%"]);
      expect(checkCoverage({ total: entry([1, 1], [1, 1]) }, ROOT).failures).to.deep.equal([
        "no file under contracts/ (mocks excluded) in the coverage summary",
      ]);
    });

    it("takes relative keys and other thresholds", function () {
      const summary: CoverageSummary = { "contracts/A.sol": entry([8, 10], [5, 10]) };
      expect(checkCoverage(summary, ROOT, { lines: 80, branches: 50 }).ok).to.equal(true);
      expect(checkCoverage(summary, ROOT).ok).to.equal(false);
      expect(COVERAGE_THRESHOLDS).to.deep.equal({ lines: 95, branches: 90 });
    });
  });

  describe("#formatCoverage", function () {
    it("prints the totals and each file below a threshold", function () {
      const report = formatCoverage(checkCoverage(atThresholds(), ROOT));
      expect(report.split("\n")).to.deep.equal([
        "coverage of contracts/ (mocks excluded), 3 files:",
        "  lines    95.00% (950/1000), threshold 95%",
        "  branches 90.00% (900/1000), threshold 90%",
        "files below 95% of lines or 90% of branches:",
        "  contracts/core/logic/OrderBookLogic.sol: lines 90.00% (450/500), branches 80.00% (400/500)",
        "coverage gate: passed",
      ]);
    });

    it("says why it failed", function () {
      const summary = atThresholds();
      summary[at("contracts/core/Clearinghouse.sol")] = entry([499, 500], [500, 500]);
      expect(formatCoverage(checkCoverage(summary, ROOT))).to.match(/coverage gate: FAILED \(lines 94\.90% < 95%\)$/);
    });
  });

  describe("helpers", function () {
    it("rounds percentages down, so a shown figure never overstates", function () {
      expect(percent(94.999)).to.equal("94.99%");
      expect(percent(100)).to.equal("100.00%");
    });

    it("gates contracts/ without mocks only", function () {
      expect(isGatedContract("contracts/core/Clearinghouse.sol")).to.equal(true);
      expect(isGatedContract("contracts/mocks/ClearinghouseHarness.sol")).to.equal(false);
      expect(isGatedContract("node_modules/@openzeppelin/contracts/access/AccessControl.sol")).to.equal(false);
    });
  });
});
