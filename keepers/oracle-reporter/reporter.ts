/**
 * The oracle reporter: computes each feed's index from its source, decides whether a round is
 * due (first round, heartbeat, deviation, or a held jump to confirm or refute), has every
 * configured reporter key sign it, checks the signatures and simulates the submission, then
 * transmits it. It never sends a round it could not validate.
 */
import { ErrorDescription, isError } from "ethers";
import type { Provider, Wallet } from "ethers";
import type { IndexOracle } from "../../typechain-types";
import { deviationExceeds, feedIdOf, formatX18, signReport, verifyReport } from "../../sdk";
import type { OracleDomain, SignedReport } from "../../sdk";
import { IndexDataError, DataSourceError } from "../shared/errors";
import { withRetry } from "../shared/retry";
import type { Logger } from "../shared/logger";
import { computeIndex } from "./compute";
import type { FeedSymbol, IndexSource } from "./source";

export interface ReporterSettings {
  feeds: FeedSymbol[];
  /** Seconds between rounds when the index has not moved, per feed. */
  heartbeatSec: Record<FeedSymbol, bigint>;
  /** Submit early when the index moved more than this since the last accepted round. */
  deviationBps: bigint;
  /** Round times are aligned down to a multiple of this, so independent reporters agree. */
  roundAlignSec: bigint;
  dryRun: boolean;
  /** Attempts for a transaction that fails for network reasons. */
  sendAttempts: number;
}

export type RoundAction = "submitted" | "dry-run" | "skipped" | "refused";

export interface RoundOutcome {
  feed: FeedSymbol;
  action: RoundAction;
  reason: string;
  indexX18?: bigint;
  observedAt?: bigint;
  txHash?: string;
  /** Names of the oracle events the round produced (RoundAccepted, RoundHeld, JumpConfirmed...). */
  events?: string[];
}

export interface ReporterDependencies {
  oracle: IndexOracle;
  provider: Provider;
  signers: Wallet[];
  source: IndexSource;
  logger: Logger;
  settings: ReporterSettings;
  /** Called when a send fails, before any retry (e.g. to resync a nonce manager). */
  onSendFailed?: () => void;
}

export class OracleReporter {
  private cachedDomain?: OracleDomain;

  constructor(private readonly deps: ReporterDependencies) {}

  /** The EIP-712 domain of the oracle: read once, it never changes. */
  private async domain(): Promise<OracleDomain> {
    this.cachedDomain ??= {
      chainId: (await this.deps.provider.getNetwork()).chainId,
      oracle: await this.deps.oracle.getAddress(),
    };
    return this.cachedDomain;
  }

  /** One pass over every configured feed. Never throws for a feed's data or chain problem. */
  async tick(): Promise<RoundOutcome[]> {
    const block = await this.deps.provider.getBlock("latest");
    if (block === null) throw new DataSourceError("no latest block");
    const now = BigInt(block.timestamp);
    const observedAt = now - (now % this.deps.settings.roundAlignSec);
    let inputs: Awaited<ReturnType<IndexSource["read"]>>;
    try {
      inputs = await this.deps.source.read(observedAt);
    } catch (error) {
      this.deps.logger.error({ err: (error as Error).message }, "index source unreadable");
      return this.deps.settings.feeds.map((feed) => ({ feed, action: "refused", reason: (error as Error).message }));
    }
    const outcomes: RoundOutcome[] = [];
    for (const feed of this.deps.settings.feeds) {
      outcomes.push(await this.reportFeed(feed, inputs[feed], observedAt));
    }
    return outcomes;
  }

  private async reportFeed(
    feed: FeedSymbol,
    inputs: Awaited<ReturnType<IndexSource["read"]>>[FeedSymbol],
    observedAt: bigint,
  ): Promise<RoundOutcome> {
    const log = this.deps.logger.child({ feed });
    const { oracle, settings } = this.deps;
    const feedId = feedIdOf(feed);
    let computed;
    try {
      computed = computeIndex(inputs);
    } catch (error) {
      if (!(error instanceof IndexDataError)) throw error;
      log.error({ err: error.message }, "index data failed validation; not signing");
      return { feed, action: "refused", reason: error.message };
    }
    for (const warning of computed.warnings) log.warn({ warning }, "index data warning");

    const [config, state] = await Promise.all([oracle.feedConfig(feedId), oracle.feedState(feedId)]);
    if (!config.exists) return { feed, action: "refused", reason: "feed not registered in the oracle" };
    if (Number(config.methodologyVersion) !== computed.methodologyVersion) {
      const reason = `methodology v${computed.methodologyVersion} of the data, oracle expects v${config.methodologyVersion}`;
      log.error({ reason }, "methodology version mismatch; not signing");
      return { feed, action: "refused", reason };
    }
    const decision = await this.decide(feed, computed.indexX18, observedAt, config, state);
    const base = { feed, indexX18: computed.indexX18, observedAt };
    if (!decision.due) {
      log.debug({ reason: decision.reason, index: formatX18(computed.indexX18, 4) }, "no round due");
      return { ...base, action: "skipped", reason: decision.reason };
    }

    const domain = await this.domain();
    const reports: SignedReport[] = [];
    for (const signer of this.deps.signers) {
      const signed = await signReport(signer, domain, {
        feedId,
        priceX18: computed.indexX18,
        observedAt,
        methodologyVersion: computed.methodologyVersion,
        sourceHash: computed.sourceHash,
      });
      verifyReport(signed, signer.address);
      reports.push(signed);
    }

    try {
      await oracle.submit.staticCall(feedId, reports);
    } catch (error) {
      const reason = this.describeRevert(error);
      log.error({ reason }, "simulation of the round reverted; not sending");
      return { ...base, action: "refused", reason };
    }
    if (settings.dryRun) {
      log.info(
        { index: formatX18(computed.indexX18), observedAt: observedAt.toString(), why: decision.reason },
        "dry run: round signed, not sent",
      );
      return { ...base, action: "dry-run", reason: decision.reason };
    }

    try {
      const receipt = await withRetry(async () => (await oracle.submit(feedId, reports)).wait(), {
        attempts: settings.sendAttempts,
        baseDelayMs: 500,
        maxDelayMs: 10_000,
        shouldRetry: (error) => !isError(error, "CALL_EXCEPTION"),
        onRetry: (error, attempt, delayMs) => {
          this.deps.onSendFailed?.();
          log.warn({ err: (error as Error).message, attempt, delayMs }, "send failed, retrying");
        },
      });
      const events = (receipt?.logs ?? [])
        .map((entry) => oracle.interface.parseLog(entry))
        .filter((parsed) => parsed !== null)
        .map((parsed) => parsed.name);
      log.info(
        {
          index: formatX18(computed.indexX18),
          observedAt: observedAt.toString(),
          tx: receipt?.hash,
          events,
          why: decision.reason,
          data: computed.label,
        },
        "round submitted",
      );
      return { ...base, action: "submitted", reason: decision.reason, txHash: receipt?.hash, events };
    } catch (error) {
      const reason = this.describeRevert(error);
      log.error({ reason }, "round not submitted");
      return { ...base, action: "refused", reason };
    }
  }

  /** Whether a round is due now, from the oracle's state (rebuilt every tick: restarts are safe). */
  private async decide(
    feed: FeedSymbol,
    indexX18: bigint,
    observedAt: bigint,
    config: Awaited<ReturnType<IndexOracle["feedConfig"]>>,
    state: Awaited<ReturnType<IndexOracle["feedState"]>>,
  ): Promise<{ due: boolean; reason: string }> {
    if (state.roundCount === 0n) return { due: true, reason: "first round" };
    const [lastPriceX18, lastAt] = await this.deps.oracle.peekLatest(feedIdOf(feed));
    const pendingAt = state.pendingObservedAt;
    const lastRoundAt = pendingAt > lastAt ? pendingAt : lastAt;
    if (observedAt < lastRoundAt + config.params.minIntervalSec) return { due: false, reason: "minimum interval" };
    if (pendingAt !== 0n) {
      const guard = config.params.jumpGuardBps;
      const confirms = !deviationExceeds(state.pendingPriceX18, indexX18, guard);
      const refutes = !deviationExceeds(lastPriceX18, indexX18, guard);
      if (confirms && !refutes && observedAt < pendingAt + config.params.confirmDelaySec) {
        return { due: false, reason: "held jump: waiting for the confirmation delay" };
      }
      return { due: true, reason: confirms && !refutes ? "confirm held jump" : "held jump: report current value" };
    }
    if (observedAt - lastAt >= this.deps.settings.heartbeatSec[feed]) return { due: true, reason: "heartbeat" };
    if (deviationExceeds(lastPriceX18, indexX18, this.deps.settings.deviationBps))
      return { due: true, reason: "deviation" };
    return { due: false, reason: "unchanged within the heartbeat" };
  }

  /** A one-line reason for a failed call: the decoded custom error when there is one. */
  private describeRevert(error: unknown): string {
    const data = (error as { data?: string }).data;
    if (typeof data === "string") {
      const parsed: ErrorDescription | null = this.deps.oracle.interface.parseError(data);
      if (parsed !== null) return `${parsed.name}(${parsed.args.map((arg: unknown) => String(arg)).join(", ")})`;
    }
    return (error as Error).message.split("\n")[0];
  }
}
