/** The `list-series` task's body: picks a governor's key, lists or schedules the due series, prints the outcome. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Clearinghouse__factory, TokenpitTimelock__factory } from "../../../typechain-types";
import { LOCAL_CHAIN_ID } from "../../../config/deploy";
import { deploymentPath, readDeployment } from "../../../config/deployments";
import { listDueSeries } from "./listSeries";
import type { ListingOutcome } from "./listSeries";

/** The first configured signer that may list: MARKET_ADMIN_ROLE, or the timelock's PROPOSER_ROLE. */
async function governorSigner(hre: HardhatRuntimeEnvironment, clearinghouse: string, timelock: string) {
  const signers = await hre.ethers.getSigners();
  const ch = Clearinghouse__factory.connect(clearinghouse, hre.ethers.provider);
  const tl = TokenpitTimelock__factory.connect(timelock, hre.ethers.provider);
  const [marketAdmin, proposer] = [await ch.MARKET_ADMIN_ROLE(), await tl.PROPOSER_ROLE()];
  for (const signer of signers) {
    if ((await ch.hasRole(marketAdmin, signer.address)) || (await tl.hasRole(proposer, signer.address))) return signer;
  }
  throw new Error(
    `none of the configured accounts (${signers.map((s) => s.address).join(", ")}) is a governor: set PRIVATE_KEY ` +
      "to a key with the timelock's PROPOSER_ROLE (and EXECUTOR_ROLE)",
  );
}

function describe(outcome: ListingOutcome): string {
  const at =
    outcome.readyAtSec === undefined ? "" : ` (executable from ${new Date(outcome.readyAtSec * 1000).toISOString()})`;
  return `  ${outcome.symbol}: ${outcome.action}${at}`;
}

export async function runListSeriesTask(
  hre: HardhatRuntimeEnvironment,
  args: { deployment?: string; months: string; advanceTime: boolean },
): Promise<void> {
  const months = Number(args.months);
  if (!Number.isInteger(months) || months < 1 || months > 12)
    throw new Error(`--months must be 1 to 12, got ${args.months}`);
  const file = args.deployment ?? deploymentPath(hre.config.paths.root, hre.network.name);
  const deployment = readDeployment(file);
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  if (chainId !== deployment.chainId)
    throw new Error(`${file} is for chain ${deployment.chainId}, the network is chain ${chainId}`);
  const signer = await governorSigner(hre, deployment.contracts.clearinghouse, deployment.contracts.timelock);
  let outcomes = await listDueSeries({ hre, signer, deployment, deploymentFile: file, months });
  if (args.advanceTime && outcomes.some((o) => o.action === "scheduled" || o.action === "waiting")) {
    if (chainId !== LOCAL_CHAIN_ID) throw new Error("--advance-time works on local chains only");
    for (const outcome of outcomes) console.log(describe(outcome));
    const readyAt = Math.max(...outcomes.map((o) => o.readyAtSec ?? 0));
    const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    await hre.network.provider.send("evm_increaseTime", [Math.max(0, readyAt - now) + 1]);
    await hre.network.provider.send("evm_mine", []);
    console.log("  (local chain: time moved past the timelock delay)");
    outcomes = await listDueSeries({ hre, signer, deployment: readDeployment(file), deploymentFile: file, months });
  }
  if (outcomes.length === 0) console.log("Nothing to do: every due series is listed.");
  for (const outcome of outcomes) console.log(describe(outcome));
  if (outcomes.some((o) => o.action === "scheduled" || o.action === "waiting")) {
    console.log("Run the command again once the delay has passed to execute the listings.");
  }
  console.log(
    `Listed: ${readDeployment(file)
      .series.map((s) => `${s.id}:${s.symbol}`)
      .join(" ")}`,
  );
}
