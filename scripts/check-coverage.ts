/**
 * The coverage gate, run by `npm run coverage` and `npm run coverage:ci` after solidity-coverage: reads
 * coverage/coverage-summary.json (the json-summary reporter of .solcover.js) and exits 1 unless contracts/ (mocks
 * excluded) has at least 95% of lines and 90% of branches covered; prints the figures and every file below them.
 *
 * Usage: npm run coverage:check [-- <summary.json>]
 */
import fs from "node:fs";
import path from "node:path";
import { checkCoverage, type CoverageSummary, formatCoverage } from "./lib/coverageGate";

function main(): number {
  const root = path.resolve(__dirname, "..");
  const file = path.resolve(root, process.argv[2] ?? path.join("coverage", "coverage-summary.json"));
  if (!fs.existsSync(file)) {
    console.error(`coverage gate: ${path.relative(root, file)} is missing: run \`npx hardhat coverage\` first`);
    return 1;
  }
  const result = checkCoverage(JSON.parse(fs.readFileSync(file, "utf8")) as CoverageSummary, root);
  (result.ok ? console.log : console.error)(formatCoverage(result));
  return result.ok ? 0 : 1;
}

process.exitCode = main();
