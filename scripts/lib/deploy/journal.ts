/**
 * The deploy journal: makes the deployment resumable and idempotent. Every transaction of the deployment is a
 * named step; the journal (`deployments/<network>.journal.json`) records a step's transaction hash as soon as it is
 * broadcast and its result (contract address, block) once it is mined. Running the deployment again:
 * - skips every mined step, after checking that a recorded contract still has code (a restarted local node has
 *   lost it: that is an error, not a silent redeploy);
 * - for a step broadcast but not known to be mined, waits for the recorded transaction instead of sending another;
 *   only a transaction the node no longer knows is sent again;
 * - asks the chain before a state-changing call when the step can say whether it is already done (a role already
 *   granted, a series already listed), so even a lost journal does not repeat those.
 * The only window it cannot cover is a crash between the node accepting a transaction and the journal being
 * written (milliseconds); docs/deploy.md says how to recover from it.
 */
import fs from "node:fs";
import type { Provider, TransactionReceipt, TransactionResponse } from "ethers";
import { writeJsonAtomically } from "../../../config/deployments";

/** A step as recorded. */
export interface JournalStep {
  key: string;
  status: "sent" | "done";
  txHash?: string;
  /** Deployed contract (deploy steps). */
  address?: string;
  block?: number;
  /** A value chosen once and kept for every later run (`remember`). */
  value?: string;
}

interface JournalFile {
  format: 1;
  chainId: number;
  steps: JournalStep[];
}

/** The journal cannot be used on this chain, or a step failed. */
export class DeployJournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployJournalError";
  }
}

/** Raised by the test hook `interruptAfter` to simulate a deployment killed half way. */
export class DeploymentInterrupted extends Error {
  constructor(readonly step: string) {
    super(`deployment interrupted after step ${step}`);
    this.name = "DeploymentInterrupted";
  }
}

/** Test hook: stop the run after its `steps`-th new transaction is broadcast ("sent") or mined ("mined"). */
export interface InterruptAfter {
  steps: number;
  phase: "sent" | "mined";
}

export interface JournalCounters {
  /** Transactions sent in this run. */
  sent: number;
  /** Steps skipped because the journal or the chain says they are done. */
  skipped: number;
  /** Broadcast transactions of an earlier run that this run waited for instead of resending. */
  resumed: number;
}

export class DeployJournal {
  readonly counters: JournalCounters = { sent: 0, skipped: 0, resumed: 0 };
  readonly #steps = new Map<string, JournalStep>();

  private constructor(
    private readonly file: string,
    private readonly chainId: number,
    private readonly provider: Provider,
    private readonly interruptAfter?: InterruptAfter,
  ) {}

  /**
   * Opens the journal at `file` (a new one when absent).
   * @throws DeployJournalError when the file belongs to another chain or is malformed.
   */
  static open(file: string, chainId: number, provider: Provider, interruptAfter?: InterruptAfter): DeployJournal {
    const journal = new DeployJournal(file, chainId, provider, interruptAfter);
    if (fs.existsSync(file)) {
      let parsed: JournalFile;
      try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8")) as JournalFile;
      } catch (error) {
        throw new DeployJournalError(
          `${file} is not valid JSON (${(error as Error).message}); move it away to start over`,
        );
      }
      if (parsed.format !== 1 || !Array.isArray(parsed.steps)) {
        throw new DeployJournalError(`${file} is not a deploy journal (format 1)`);
      }
      if (parsed.chainId !== chainId) {
        throw new DeployJournalError(
          `${file} is the journal of chain ${parsed.chainId}, but the network is chain ${chainId}`,
        );
      }
      for (const step of parsed.steps) journal.#steps.set(step.key, step);
    }
    return journal;
  }

  /** Whether any step was ever recorded. */
  get isEmpty(): boolean {
    return this.#steps.size === 0;
  }

  /** The recorded step `key`, if any. */
  step(key: string): JournalStep | undefined {
    return this.#steps.get(key);
  }

  /** The first and last block of the mined steps. */
  blockRange(): { first: number; last: number } | undefined {
    const blocks = [...this.#steps.values()].map((s) => s.block).filter((b): b is number => b !== undefined);
    if (blocks.length === 0) return undefined;
    return { first: Math.min(...blocks), last: Math.max(...blocks) };
  }

  /**
   * A value decided on the first run and reused by every later run (e.g. the time the series plan is computed
   * from, so a resume after a month boundary lists the same months).
   */
  async remember(key: string, compute: () => Promise<string>): Promise<string> {
    const recorded = this.#steps.get(key);
    if (recorded?.value !== undefined) return recorded.value;
    const value = await compute();
    this.#record({ key, status: "done", value });
    return value;
  }

  /**
   * Deploys a contract once: returns the recorded address, the address of a recorded broadcast once mined, or
   * the address of a new deployment sent by `send`.
   * @param name Contract name, for messages.
   */
  async deploy(key: string, name: string, send: () => Promise<TransactionResponse>): Promise<string> {
    const recorded = this.#steps.get(key);
    if (recorded?.status === "done" && recorded.address !== undefined) {
      const code = await this.provider.getCode(recorded.address);
      if (code === "0x") {
        throw new DeployJournalError(
          `the journal records ${name} at ${recorded.address}, but the chain has no code there (a restarted local ` +
            `node?): delete ${this.file} and the deployment file to deploy again`,
        );
      }
      this.counters.skipped += 1;
      return recorded.address;
    }
    const receipt = await this.#run(key, send);
    if (receipt.contractAddress === null) throw new DeployJournalError(`step ${key} created no contract`);
    this.#record({
      key,
      status: "done",
      txHash: receipt.hash,
      address: receipt.contractAddress,
      block: receipt.blockNumber,
    });
    await this.#maybeInterrupt(key, "mined");
    return receipt.contractAddress;
  }

  /**
   * Sends a state-changing call once. `isDone` (optional) asks the chain whether the effect is already there;
   * when it is, nothing is sent.
   */
  async call(key: string, send: () => Promise<TransactionResponse>, isDone?: () => Promise<boolean>): Promise<void> {
    const recorded = this.#steps.get(key);
    if (recorded?.status === "done") {
      this.counters.skipped += 1;
      return;
    }
    if (recorded === undefined && isDone !== undefined && (await isDone())) {
      this.#record({ key, status: "done" });
      this.counters.skipped += 1;
      return;
    }
    const receipt = await this.#run(key, send);
    this.#record({ key, status: "done", txHash: receipt.hash, block: receipt.blockNumber });
    await this.#maybeInterrupt(key, "mined");
  }

  /** Waits for a recorded broadcast of `key`, or sends it; returns the successful receipt. */
  async #run(key: string, send: () => Promise<TransactionResponse>): Promise<TransactionReceipt> {
    const recorded = this.#steps.get(key);
    if (recorded?.status === "sent" && recorded.txHash !== undefined) {
      const known = await this.provider.getTransaction(recorded.txHash);
      if (known !== null) {
        this.counters.resumed += 1;
        return this.#mined(key, await this.#receiptOf(key, known));
      }
      // Dropped by the node (never mined): send it again.
    }
    const response = await send();
    this.counters.sent += 1;
    this.#record({ key, status: "sent", txHash: response.hash });
    await this.#maybeInterrupt(key, "sent");
    return this.#mined(key, await this.#receiptOf(key, response));
  }

  /** The receipt of a broadcast; a reverted one is forgotten (the next run sends the step again) and reported. */
  async #receiptOf(key: string, response: TransactionResponse): Promise<TransactionReceipt | null> {
    try {
      return await response.wait();
    } catch (error) {
      const receipt = await this.provider.getTransactionReceipt(response.hash);
      if (receipt !== null && receipt.status === 0) {
        this.#steps.delete(key);
        this.#write();
        throw new DeployJournalError(`step ${key}: transaction ${response.hash} reverted; a rerun sends it again`);
      }
      throw error;
    }
  }

  #mined(key: string, receipt: TransactionReceipt | null): TransactionReceipt {
    if (receipt === null) throw new DeployJournalError(`step ${key}: no receipt`);
    if (receipt.status !== 1) throw new DeployJournalError(`step ${key}: transaction ${receipt.hash} reverted`);
    return receipt;
  }

  #record(step: JournalStep): void {
    this.#steps.set(step.key, step);
    this.#write();
  }

  #write(): void {
    const file: JournalFile = { format: 1, chainId: this.chainId, steps: [...this.#steps.values()] };
    writeJsonAtomically(this.file, file);
  }

  async #maybeInterrupt(key: string, phase: InterruptAfter["phase"]): Promise<void> {
    const hook = this.interruptAfter;
    if (hook === undefined || hook.phase !== phase) return;
    if (this.counters.sent >= hook.steps) throw new DeploymentInterrupted(key);
  }
}
