/**
 * The operator and trader command line: `npx hardhat <task> --network <name> [--json] [--deployment <file>]`.
 * Read-only: series, index, book, account. Acting (`--from <signer index or address>`): deposit, withdraw, order,
 * cancel, cancel-all, settle, liquidate. Every failure prints one `error: ...` line and exits with code 1.
 * Implementations live in tasks/lib/ and are imported inside the actions (Hardhat loads this file before the
 * contracts' types exist).
 */
import { task } from "hardhat/config";
import { compileFirst } from "./compile";
import type { ConfigurableTaskDefinition } from "hardhat/types";

/** A task with the parameters every command takes: `--deployment` and `--json`. */
function cliTask(name: string, description: string): ConfigurableTaskDefinition {
  return task(name, description)
    .addOptionalParam("deployment", "Deployment file (default deployments/<network>.json)")
    .addFlag("json", "Print one JSON object (amounts as decimal strings)");
}

/** A task that sends transactions: also `--from`. */
function actingTask(name: string, description: string): ConfigurableTaskDefinition {
  return cliTask(name, description).addOptionalParam("from", "Acting signer: index among the accounts, or address");
}

cliTask("series", "Lists every series: status, mark, open interest, margins, fees").setAction(async (args, hre) => {
  await compileFirst(hre);
  const [{ runTask }, { seriesTask }] = await Promise.all([import("./lib/runTask"), import("./lib/seriesTask")]);
  await runTask(hre, args, seriesTask);
});

cliTask("index", "Latest index, 1 h and 24 h TWAP, staleness, and marks of a feed")
  .addOptionalParam("series", "Series symbol or id")
  .addOptionalParam("feed", "Feed symbol (AIT, GPUH)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { indexTask }] = await Promise.all([import("./lib/runTask"), import("./lib/indexTask")]);
    await runTask(hre, args, indexTask);
  });

cliTask("book", "Order book depth of a series, best bid and ask, spread")
  .addOptionalParam("series", "Series symbol or id")
  .addOptionalParam("levels", "Levels per side (default 10)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { bookTask }] = await Promise.all([import("./lib/runTask"), import("./lib/bookTask")]);
    await runTask(hre, args, bookTask);
  });

cliTask("account", "Margin, positions and open orders of an account")
  .addOptionalParam("address", "The account (default: the first signer)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { accountTask }] = await Promise.all([import("./lib/runTask"), import("./lib/accountTask")]);
    await runTask(hre, args, accountTask);
  });

actingTask("deposit", "Deposits collateral (USD, token decimals) into the signer's account")
  .addOptionalParam("amount", "Amount, e.g. 1000.5")
  .addFlag("approve", "Approve the clearinghouse for the amount when the allowance is short")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { depositTask }] = await Promise.all([
      import("./lib/runTask"),
      import("./lib/collateralTasks"),
    ]);
    await runTask(hre, args, depositTask);
  });

actingTask("faucet", "Mints mock collateral (deployments whose collateral is the mock token only)")
  .addOptionalParam("amount", "Amount, e.g. 10000")
  .addOptionalParam("to", "Receiver (default: the signer)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { faucetTask }] = await Promise.all([import("./lib/runTask"), import("./lib/collateralTasks")]);
    await runTask(hre, args, faucetTask);
  });

actingTask("withdraw", "Withdraws free collateral from the signer's account")
  .addOptionalParam("amount", "Amount, e.g. 250")
  .addOptionalParam("to", "Receiver (default: the signer)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { withdrawTask }] = await Promise.all([
      import("./lib/runTask"),
      import("./lib/collateralTasks"),
    ]);
    await runTask(hre, args, withdrawTask);
  });

actingTask("order", "Places an order; prints its id and fills")
  .addOptionalParam("series", "Series symbol or id")
  .addOptionalParam("side", "buy or sell")
  .addOptionalParam("type", "limit, post-only, ioc, fok or market", "limit")
  .addOptionalParam("qty", "Contracts")
  .addOptionalParam("price", "Limit price in USD (worst price for market orders; none: the band's edge)")
  .addFlag("reduceOnly", "Never increase the position")
  .addOptionalParam("expires", "Good-till time of limit and post-only orders: unix seconds or ISO date")
  .addOptionalParam("maxFills", "Most resting orders to fill or remove (default 20)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { orderTask }] = await Promise.all([import("./lib/runTask"), import("./lib/orderTask")]);
    await runTask(hre, args, orderTask);
  });

actingTask("cancel", "Cancels one resting order")
  .addOptionalParam("series", "Series symbol or id")
  .addOptionalParam("orderId", "Order id")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { cancelTask }] = await Promise.all([import("./lib/runTask"), import("./lib/cancelTasks")]);
    await runTask(hre, args, cancelTask);
  });

actingTask("cancel-all", "Cancels every resting order of an account in a series")
  .addOptionalParam("series", "Series symbol or id")
  .addOptionalParam("account", "Whose orders (default: the signer)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { cancelAllTask }] = await Promise.all([import("./lib/runTask"), import("./lib/cancelTasks")]);
    await runTask(hre, args, cancelAllTask);
  });

actingTask("settle", "Settles an account of an expired series (--finalize: propose the settlement price first)")
  .addOptionalParam("series", "Series symbol or id")
  .addOptionalParam("account", "The account to settle (default: the signer)")
  .addFlag("finalize", "Call finalizeSettlement (propose the oracle TWAP as the settlement price)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { settleTask }] = await Promise.all([import("./lib/runTask"), import("./lib/settleTask")]);
    await runTask(hre, args, settleTask);
  });

actingTask("liquidate", "Liquidates an account below maintenance margin (operator)")
  .addOptionalParam("account", "The account to liquidate")
  .addOptionalParam("series", "Series of the position (default: its largest)")
  .addOptionalParam("maxQty", "Most contracts to take over (default: the whole position)")
  .setAction(async (args, hre) => {
    await compileFirst(hre, { onlyIfMissing: true });
    const [{ runTask }, { liquidateTask }] = await Promise.all([
      import("./lib/runTask"),
      import("./lib/liquidateTask"),
    ]);
    await runTask(hre, args, liquidateTask);
  });
