/**
 * Keeper load and fault benchmark (RELIABILITY.md item 29): `npx hardhat run bench/keepers.ts`
 * (npm run bench:keepers). Builds 1,000 accounts through the book on the in-process network, runs two
 * competing liquidator keepers as real child processes behind fault-injecting RPC proxies, drops both
 * indexes 40% in one block, and measures the liquidations from the chain. Writes bench/keepers.json and
 * exits 1 naming every failed criterion. The profile is set by KEEPER_BENCH_* variables (see
 * bench/lib/keeperScenario.ts: profileFromEnv), e.g. KEEPER_BENCH_ACCOUNTS=200 KEEPER_BENCH_OUTAGE_SEC=20.
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { profileFromEnv, runKeeperScenario, summarise } from "./lib/keeperScenario";

async function main(): Promise<void> {
  const profile = profileFromEnv(process.env);
  console.log(`keeper bench profile: ${JSON.stringify(profile)}`);
  const result = await runKeeperScenario(hre, profile, (message) => console.log(message));
  const out = process.env.KEEPER_BENCH_OUT ?? path.join(hre.config.paths.root, "bench", "keepers.json");
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(summarise(result));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
  if (!result.passed) {
    const failed = result.criteria.filter((c) => !c.pass).map((c) => `${c.name} (${c.detail})`);
    console.error(`keeper bench FAILED: ${failed.join("; ")}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
