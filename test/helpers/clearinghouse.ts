import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Wallet, Interface } from "ethers";
import type { IndexOracle } from "../../typechain-types";
import { publish } from "../fixtures/clearinghouse";

/** Names of every state-changing (non-view, non-pure) function of an ABI, sorted. */
export function mutatingFunctionNames(iface: Interface): string[] {
  const names: string[] = [];
  iface.forEachFunction((fragment) => {
    if (fragment.stateMutability !== "view" && fragment.stateMutability !== "pure") names.push(fragment.name);
  });
  return names.sort();
}

/**
 * Publishes one agreeing round of `price` every `stepSec` (default 12 h, inside the 24 h max age) until
 * a round is observed at or after `expiry`, so a series expiring then can be finalized at once.
 * @returns The number of rounds published.
 */
export async function publishThroughExpiry(
  oracle: IndexOracle,
  reporters: Wallet[],
  feedId: string,
  price: string,
  expiry: bigint,
  stepSec = 43_200n,
): Promise<number> {
  let rounds = 0;
  for (;;) {
    await time.increase(stepSec);
    await publish(oracle, reporters, feedId, price);
    rounds += 1;
    if (BigInt(await time.latest()) >= expiry) return rounds;
  }
}
