/** Sends one transaction and waits for its receipt; a revert or a failing node becomes the SDK's error class. */
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { guarded } from "./connection";
import { MissingEventError } from "./errors";
import type { Sent } from "./types";

/** Sends with `send`, waits for one confirmation, and returns the hash and receipt. */
export async function sendAndWait(send: () => Promise<ContractTransactionResponse>): Promise<Sent> {
  return guarded(async () => {
    const response = await send();
    const receipt: ContractTransactionReceipt | null = await response.wait();
    if (receipt === null) throw new MissingEventError("receipt", response.hash);
    return { txHash: response.hash, receipt };
  });
}
