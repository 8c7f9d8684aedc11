/**
 * The compiler-warnings gate (tasks/compileWarnings.ts, tasks/lib/compileWarnings.ts): a solc output with a warning
 * fails the compile with the file, line and message; one without, or with only the allowed warnings, passes. The
 * last two tests run the real compile subtask on a two-line contract through solc.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejectionOf } from "../helpers/rejection";
import { TASK_COMPILE_SOLIDITY_COMPILE } from "hardhat/builtin-tasks/task-names";
import {
  ALLOWED_WARNINGS,
  formatWarnings,
  hasCompileErrors,
  type SolcDiagnostic,
  warningsFailure,
  warningsOf,
} from "../../tasks/lib/compileWarnings";

const UNUSED_VARIABLE: SolcDiagnostic = {
  errorCode: "2072",
  formattedMessage:
    "Warning: Unused local variable.\n --> contracts/core/Foo.sol:12:9:\n   |\n12 |         uint256 x = 1;\n",
  message: "Unused local variable.",
  severity: "warning",
  sourceLocation: { end: 310, file: "contracts/core/Foo.sol", start: 297 },
  type: "Warning",
};

const TRANSIENT_STORAGE: SolcDiagnostic = {
  errorCode: "2394",
  formattedMessage: "Warning: Transient storage as defined by EIP-1153 can break the composability ...",
  message: "Transient storage as defined by EIP-1153 can break the composability of smart contracts ...",
  severity: "warning",
  sourceLocation: { end: 3500, file: "@openzeppelin/contracts/utils/TransientSlot.sol", start: 3485 },
  type: "Warning",
};

const HARNESS_SIZE: SolcDiagnostic = {
  errorCode: "5574",
  message: "Contract code size is 24609 bytes and exceeds 24576 bytes (a limit introduced in Spurious Dragon).",
  severity: "warning",
  sourceLocation: { end: 900, file: "contracts/mocks/ClearinghouseHarness.sol", start: 500 },
  type: "Warning",
};

describe("compiler warnings gate", function () {
  describe("#warningsOf", function () {
    it("returns nothing for an output without diagnostics, or without errors at all", function () {
      expect(warningsOf({ errors: [] })).to.deep.equal([]);
      expect(warningsOf({})).to.deep.equal([]);
      expect(warningsOf(undefined)).to.deep.equal([]);
    });

    it("reports a warning with its file, line, column, code and message", function () {
      expect(warningsOf({ errors: [UNUSED_VARIABLE] })).to.deep.equal([
        { file: "contracts/core/Foo.sol", line: 12, column: 9, errorCode: "2072", message: "Unused local variable." },
      ]);
    });

    it("ignores errors and infos: those are not warnings", function () {
      const error = { ...UNUSED_VARIABLE, severity: "error", type: "TypeError" };
      const info = { ...UNUSED_VARIABLE, severity: "info", type: "Info" };
      expect(warningsOf({ errors: [error, info] })).to.deep.equal([]);
    });

    it("lets the allowed warnings through, each only from its own files", function () {
      expect(warningsOf({ errors: [TRANSIENT_STORAGE, HARNESS_SIZE] })).to.deep.equal([]);
      const productionSize = { ...HARNESS_SIZE, sourceLocation: { file: "contracts/core/Clearinghouse.sol" } };
      const transientElsewhere = { ...TRANSIENT_STORAGE, sourceLocation: { file: "contracts/core/Lock.sol" } };
      expect(warningsOf({ errors: [productionSize, transientElsewhere] }).map((w) => w.file)).to.deep.equal([
        "contracts/core/Clearinghouse.sol",
        "contracts/core/Lock.sol",
      ]);
    });

    it("reports everything with an empty allow list", function () {
      expect(warningsOf({ errors: [TRANSIENT_STORAGE, HARNESS_SIZE, UNUSED_VARIABLE] }, [])).to.have.length(3);
    });

    it("takes the file from the formatted message when there is no source location", function () {
      const { sourceLocation: _ignored, ...withoutLocation } = UNUSED_VARIABLE;
      expect(warningsOf({ errors: [withoutLocation] })[0]).to.include({ file: "contracts/core/Foo.sol", line: 12 });
      const bare = { severity: "warning", message: "Something." };
      expect(warningsOf({ errors: [bare] })).to.deep.equal([{ file: "<unknown>", message: "Something." }]);
    });

    it("gives every allowed warning a reason", function () {
      for (const rule of ALLOWED_WARNINGS) expect(rule.reason.length).to.be.greaterThan(40);
    });
  });

  describe("#warningsFailure", function () {
    it("lists every warning on its own line with file, line and message", function () {
      const warnings = warningsOf({ errors: [UNUSED_VARIABLE, { severity: "warning", message: "Bare." }] });
      expect(formatWarnings(warnings)).to.equal(
        "contracts/core/Foo.sol:12:9: warning 2072: Unused local variable.\n<unknown>: warning: Bare.",
      );
      const message = warningsFailure(warnings);
      expect(message).to.match(/^2 compiler warnings/);
      expect(message).to.contain("contracts/core/Foo.sol:12:9: warning 2072: Unused local variable.");
    });
  });

  describe("#hasCompileErrors", function () {
    it("is true only with an entry of severity error", function () {
      expect(hasCompileErrors({ errors: [UNUSED_VARIABLE] })).to.equal(false);
      expect(hasCompileErrors({ errors: [{ ...UNUSED_VARIABLE, severity: "error" }] })).to.equal(true);
    });
  });

  describe("the compile subtask", function () {
    // Under solidity-coverage the gate is off (instrumented sources are not the project's).
    before(function () {
      if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
    });

    function compile(body: string) {
      const input = {
        language: "Solidity",
        sources: {
          "contracts/Probe.sol": {
            content: `// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Probe {\n${body}\n}\n`,
          },
        },
        settings: { optimizer: { enabled: false }, outputSelection: { "*": { "*": ["abi"] } } },
      };
      return hre.run(TASK_COMPILE_SOLIDITY_COMPILE, {
        solcVersion: "0.8.28",
        input,
        quiet: true,
        compilationJob: {},
        compilationJobs: [],
        compilationJobIndex: 0,
      });
    }

    it("fails on a warning, naming the file, line and message", async function () {
      const error = await rejectionOf(compile("    function f() external pure { uint256 x = 1; }"));
      expect(error.message).to.match(/^1 compiler warning/);
      expect(error.message).to.contain("contracts/Probe.sol:4:34: warning 2072: Unused local variable.");
    });

    it("passes a source without warnings", async function () {
      const result = (await compile("    function f() external pure returns (uint256) { return 1; }")) as {
        output: { errors?: unknown[] };
      };
      expect(result.output.errors ?? []).to.deep.equal([]);
    });
  });
});
