/**
 * `npm run check:safety` (also in `npm run lint`): fails, naming file and line, when
 *   (a) a contract outside contracts/mocks/ imports anything upgradeable (Initializable, UUPSUpgradeable, a proxy,
 *       `@openzeppelin/contracts-upgradeable`), declares an initializer, or uses delegatecall or selfdestruct;
 *   (b) any contract under contracts/ imports console.sol (`hardhat/console.sol`);
 *   (c) a script under test/, bench/, keepers/, tasks/, sdk/ or scripts/ calls describe/it/context/specify `.only(`.
 * The checks are the pure functions of scripts/lib/safetyChecks.ts (docs/assurance.md).
 */
import path from "node:path";
import { formatFinding, scanRepository } from "./lib/safetyChecks";

function main(): number {
  const root = path.resolve(__dirname, "..");
  const { contracts, scripts, findings } = scanRepository(root);
  if (findings.length > 0) {
    for (const finding of findings) console.error(formatFinding(finding));
    console.error(`check:safety: ${findings.length} finding(s) in ${contracts} contracts and ${scripts} scripts`);
    return 1;
  }
  console.log(`check:safety: ${contracts} contracts and ${scripts} scripts checked, no findings`);
  return 0;
}

process.exitCode = main();
