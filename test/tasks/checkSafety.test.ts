/**
 * The safety checks of `npm run check:safety` (scripts/lib/safetyChecks.ts): each check passes a good source and
 * fails a bad one, naming the line. The bad examples are built from pieces (`ONLY`), so the scan of this repository
 * never sees a focused test in this file.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  blankSolidity,
  checkConsoleImport,
  checkFocusedTests,
  checkUpgradeability,
  formatFinding,
  importsOf,
  scanRepository,
} from "../../scripts/lib/safetyChecks";

/** `.only` followed by the call's parenthesis, kept apart so this file's own text has no focused call. */
const ONLY = ".on" + "ly(";

const CLEAN_CONTRACT = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice Not upgradeable: no proxy, no initializer, no delegatecall, no selfdestruct.
contract Clean is AccessControl {
    /* A block comment: function initialize() external {} */
    string public constant NOTE = "delegatecall and selfdestruct are only words here";

    function initialized() external pure returns (bool) {
        return true;
    }
}
`;

function lines(findings: { line: number; rule: string }[]): string[] {
  return findings.map((f) => `${f.line}:${f.rule}`);
}

describe("safety checks", function () {
  describe("#blankSolidity", function () {
    it("blanks comments and keeps every line and offset", function () {
      const source = 'a // x\n/* y\n z */ b "s // t" /**/ c';
      const blanked = blankSolidity(source);
      expect(blanked).to.have.length(source.length);
      expect(blanked.split("\n")).to.have.length(3);
      expect(blanked).to.equal('a     \n    \n      b "s // t"      c');
    });

    it("blanks string contents on request, with escaped quotes", function () {
      expect(blankSolidity('x = "a\\"b"; y = \'c\';', { blankStrings: true })).to.equal("x = \"    \"; y = ' ';");
    });
  });

  describe("#importsOf", function () {
    it("finds single-line and multi-line imports with their line, not those in comments", function () {
      const source = '// import "x.sol";\nimport "a.sol";\nimport {\n    B,\n    C\n} from "./b.sol";\n';
      expect(importsOf(source).map((i) => [i.line, i.path])).to.deep.equal([
        [2, "a.sol"],
        [3, "./b.sol"],
      ]);
    });
  });

  describe("#checkUpgradeability", function () {
    it("passes a contract that only mentions the words in comments, strings and other names", function () {
      expect(checkUpgradeability(CLEAN_CONTRACT)).to.deep.equal([]);
    });

    it("fails every upgradeable import: the upgradeable package, Initializable, UUPSUpgradeable, a proxy", function () {
      const source = [
        "pragma solidity 0.8.28;",
        'import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";',
        'import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";',
        'import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";',
        'import "./MyInitializable.sol";',
        'import {AccessControlUpgradeable as AC} from "./AC.sol";',
      ].join("\n");
      expect(lines(checkUpgradeability(source))).to.deep.equal([
        "2:upgradeable-import",
        "3:upgradeable-import",
        "4:upgradeable-import",
        "5:upgradeable-import",
        "6:upgradeable-import",
      ]);
    });

    it("fails an initialize or reinitialize function and the initializer modifiers", function () {
      const source = [
        "contract C {",
        "    function initialize(address admin) external initializer {}",
        "    function reinitialize() external reinitializer(2) {}",
        "    function _init() internal onlyInitializing {}",
        "}",
      ].join("\n");
      expect(lines(checkUpgradeability(source))).to.deep.equal([
        "2:initializer",
        "2:initializer",
        "3:initializer",
        "3:initializer",
        "4:initializer",
      ]);
    });

    it("fails delegatecall (Solidity and assembly), callcode and selfdestruct, naming the line", function () {
      const source = [
        "contract C {",
        "    function f(address t) external {",
        '        (bool ok, ) = t.delegatecall("");',
        "        assembly {",
        "            let r := delegatecall(gas(), t, 0, 0, 0, 0)",
        "            let s := callcode(gas(), t, 0, 0, 0, 0, 0)",
        "        }",
        "        selfdestruct(payable(t));",
        "    }",
        "}",
      ].join("\n");
      const findings = checkUpgradeability(source);
      expect(lines(findings)).to.deep.equal(["3:delegatecall", "5:delegatecall", "6:delegatecall", "8:selfdestruct"]);
      expect(findings[0].message).to.contain("uses delegatecall");
    });
  });

  describe("#checkConsoleImport", function () {
    it("passes a contract without console.sol", function () {
      expect(checkConsoleImport(CLEAN_CONTRACT)).to.deep.equal([]);
      expect(checkConsoleImport('// import "hardhat/console.sol";\nimport "./Consoles.sol";')).to.deep.equal([]);
    });

    it("fails hardhat/console.sol, a renamed import and any other console.sol", function () {
      const source = [
        'import "hardhat/console.sol";',
        'import {console} from "hardhat/console.sol";',
        'import "forge-std/console2.sol";',
        'import "../lib/console.sol";',
      ].join("\n");
      const findings = checkConsoleImport(source);
      expect(lines(findings)).to.deep.equal([
        "1:console-import",
        "2:console-import",
        "3:console-import",
        "4:console-import",
      ]);
      expect(findings[0].message).to.equal('imports "hardhat/console.sol": no console logging in contracts');
    });
  });

  describe("#checkFocusedTests", function () {
    it("passes tests without .only, and .only in comments, strings or on other objects", function () {
      const source = [
        'describe("a", function () {',
        '  it("b", async function () {});',
        `  // it${ONLY}"commented", ...)`,
        `  const text = "describe${ONLY}'x')";`,
        `  const chosen = options${ONLY}1);`,
        "});",
      ].join("\n");
      expect(checkFocusedTests(source, "test/x.test.ts")).to.deep.equal([]);
    });

    it("fails describe, it, context and specify .only calls, with their line, in TypeScript and JavaScript", function () {
      const source = [
        `describe${ONLY}"a", function () {`,
        `  it${ONLY}"b", async function () {});`,
        `  context ${ONLY}"c", () => {});`,
        `  specify${ONLY}"d", () => {});`,
        "});",
      ].join("\n");
      expect(lines(checkFocusedTests(source, "test/x.test.ts"))).to.deep.equal([
        "1:focused-test",
        "2:focused-test",
        "3:focused-test",
        "4:focused-test",
      ]);
      expect(lines(checkFocusedTests(`it\n  ${ONLY}"js", () => {});`, "bench/x.js"))).to.deep.equal(["1:focused-test"]);
    });
  });

  describe("#scanRepository", function () {
    let root: string;

    beforeEach(function () {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-safety-"));
    });

    afterEach(function () {
      fs.rmSync(root, { recursive: true, force: true });
    });

    function write(file: string, text: string): void {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }

    it("checks upgradeability outside mocks only, console everywhere, .only in the script folders", function () {
      write("contracts/core/Core.sol", CLEAN_CONTRACT);
      write("contracts/core/Proxyish.sol", 'import "@openzeppelin/contracts/proxy/Proxy.sol";\n');
      write("contracts/mocks/Harness.sol", 'import "hardhat/console.sol";\ncontract H { function initialize() {} }\n');
      write("test/unit/a.test.ts", `describe${ONLY}"a", () => {});\n`);
      write("examples/notScanned.ts", `it${ONLY}"a", () => {});\n`);
      write("test/node_modules/dep/index.js", `it${ONLY}"a", () => {});\n`);
      const result = scanRepository(root);
      expect(result.contracts).to.equal(3);
      expect(result.scripts).to.equal(1);
      expect(result.findings.map(formatFinding)).to.deep.equal([
        'contracts/core/Proxyish.sol:1: [upgradeable-import] imports upgradeability or a proxy ("@openzeppelin/' +
          'contracts/proxy/Proxy.sol"): core contracts are not upgradeable',
        'contracts/mocks/Harness.sol:1: [console-import] imports "hardhat/console.sol": no console logging in ' +
          "contracts",
        "test/unit/a.test.ts:1: [focused-test] describe.only(...) runs only the focused tests: remove .only",
      ]);
    });

    it("finds nothing in the checker and this test themselves", function () {
      const repo = path.resolve(__dirname, "..", "..");
      for (const file of ["scripts/lib/safetyChecks.ts", "scripts/check-safety.ts", "test/tasks/checkSafety.test.ts"]) {
        expect(checkFocusedTests(fs.readFileSync(path.join(repo, file), "utf8"), file), file).to.deep.equal([]);
      }
    });
  });
});
