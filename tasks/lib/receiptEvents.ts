/** The clearinghouse events of a mined transaction, decoded. */
import type { ContractTransactionReceipt, LogDescription } from "ethers";
import type { Clearinghouse } from "../../typechain-types";

/** Every log of `receipt` the clearinghouse emitted, decoded, in log order. */
export async function clearinghouseEvents(
  clearinghouse: Clearinghouse,
  receipt: ContractTransactionReceipt | null,
): Promise<LogDescription[]> {
  if (receipt === null) return [];
  const address = (await clearinghouse.getAddress()).toLowerCase();
  const events: LogDescription[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = clearinghouse.interface.parseLog(log);
    if (parsed !== null) events.push(parsed);
  }
  return events;
}
