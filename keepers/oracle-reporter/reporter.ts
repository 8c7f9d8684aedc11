/**
 * The oracle reporter: computes each feed's index from its source, decides whether a round is
 * due (first round, heartbeat, deviation, or a held jump to confirm or refute), has every
 * configured reporter key sign it, checks the signatures, then hands it to the transmitter's
 * sender, which simulates it and sends it only if the simulation passes (nothing in dry-run).
 * It never sends a round it could not validate.
 */
import type { Provider, Wallet } from "ethers";
import type { IndexOracle } from "../../typechain-types";
import { deviationExceeds, feedIdOf, formatX18, signReport, verifyReport } from "../../sdk";
import type { OracleDomain, SignedReport } from "../../sdk";
import { IndexDataError, DataSourceError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import { computeIndex } from "./compute";
import { firstLineOf } from "../shared/revert";
import type { FeedSymbol, IndexSource } from "./source";
import { deliveryOf, roundIntentKey } from "./transmit";
import type { ReporterSender, RoundDelivery } from "./transmit";

export interface ReporterSettings {
  feeds: FeedSymbol[];
  /** Seconds between rounds when the index has not moved, per feed. */
  heartbeatSec: Record<FeedSymbol, bigint>;
  /** Submit early when the index moved more than this since the last accepted round. */
  deviationBps: bigint;
  /** Round times are aligned down to a multiple of this, so independent reporters agree. */
  roundAlignSec: bigint;
}

/** What a pass did with a feed: sent a round, only simulated it (dry run), found none due, or refused one. */
export type RoundAction = RoundDelivery["action"];

/** One feed's result of a pass. */
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
  /** Read and encoded against; never sends (the sender does). */
  oracle: IndexOracle;
  provider: Provider;
  /** The reporter keys: every one signs every round. */
  signers: Wallet[];
  source: IndexSource;
  /** The transmitter's one sender (a TxSender): simulation, nonces, fee bumps, dry run, idempotency. */
  sender: ReporterSender;
  logger: Logger;
  settings: ReporterSettings;
}

/** Computes, signs and transmits oracle rounds; see the module comment. Keeps no state between passes. */
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
    const { oracle } = this.deps;
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

    const pendingTxs = await this.pendingTransmitterTxs();
    if (pendingTxs > 0) {
      // A transaction of an earlier process (or a stuck one of ours) may carry this very round: wait for it.
      const reason = `transmitter has ${pendingTxs} transaction(s) pending; waiting for them`;
      log.warn({ transmitter: this.deps.sender.address, pendingTxs }, "round due, but the transmitter is busy");
      return { ...base, action: "skipped", reason };
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

    const delivery = await this.transmit(feed, observedAt, reports);
    logDelivery(log, delivery, {
      index: formatX18(computed.indexX18),
      observedAt: observedAt.toString(),
      why: decision.reason,
      data: computed.label,
    });
    return {
      ...base,
      action: delivery.action,
      reason: delivery.failure ?? decision.reason,
      ...(delivery.txHash === undefined ? {} : { txHash: delivery.txHash }),
      ...(delivery.events === undefined ? {} : { events: delivery.events }),
    };
  }

  /** Transactions of the transmitter sent but not yet mined (pending nonce minus mined nonce). */
  private async pendingTransmitterTxs(): Promise<number> {
    const { provider, sender } = this.deps;
    const [pending, mined] = await Promise.all([
      provider.getTransactionCount(sender.address, "pending"),
      provider.getTransactionCount(sender.address, "latest"),
    ]);
    return Math.max(0, pending - mined);
  }

  /** Hands the signed round to the sender under its idempotency key; a sender that throws refuses the round. */
  private async transmit(feed: FeedSymbol, observedAt: bigint, reports: SignedReport[]): Promise<RoundDelivery> {
    const { oracle, sender } = this.deps;
    const to = (await this.domain()).oracle;
    const intent = {
      key: roundIntentKey(feed, observedAt),
      to,
      data: oracle.interface.encodeFunctionData("submit", [feedIdOf(feed), reports]),
    };
    try {
      return deliveryOf(await sender.send(intent), oracle.interface, to);
    } catch (error) {
      // Provider down before anything was sent, the node refused the transaction, or the wrong chain.
      return { action: "refused", failure: firstLineOf(error) };
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
}

/** One log line per delivered (or not delivered) round. */
function logDelivery(log: Logger, delivery: RoundDelivery, round: Record<string, string>): void {
  if (delivery.action === "submitted") {
    log.info({ ...round, tx: delivery.txHash, events: delivery.events }, "round submitted");
  } else if (delivery.action === "dry-run") {
    log.info(round, "dry run: round signed and simulated, not sent");
  } else if (delivery.action === "skipped") {
    log.info({ ...round, reason: delivery.failure }, "round already handed to the sender; not sent again");
  } else {
    log.error({ ...round, reason: delivery.failure, tx: delivery.txHash }, "round not submitted");
  }
}
