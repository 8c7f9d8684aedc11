/**
 * What every client call shares: the contracts at the deployment's addresses, the runner (a Signer to send, a
 * Provider to read), the series specs (immutable once listed, so cached) and the collateral's decimals.
 */
import { decodeBytes32String, encodeBytes32String } from "ethers";
import type { ContractRunner, Provider, Signer } from "ethers";
import {
  Clearinghouse__factory,
  IERC20Metadata__factory,
  IndexOracle__factory,
  OrderBookLens__factory,
} from "../../typechain-types";
import type { Clearinghouse, IERC20Metadata, IndexOracle, OrderBookLens } from "../../typechain-types";
import type { Deployment } from "../deployment";
import { toSdkError } from "../contractErrors";
import { SeriesNotFoundError, SignerRequiredError, WrongChainError } from "./errors";
import type { SeriesRef, SeriesSpecView } from "./types";

/** The addresses the client needs, when there is no deployment file. */
export interface ClientAddresses {
  clearinghouse: string;
  lens: string;
  oracle: string;
  collateral: string;
  /** When given, `connect` refuses a node of another chain. */
  chainId?: bigint | number;
}

/** The addresses of a deployment file or of explicit addresses. */
export function clientAddressesOf(source: Deployment | ClientAddresses): ClientAddresses {
  if ("contracts" in source) {
    return {
      clearinghouse: source.contracts.clearinghouse,
      lens: source.contracts.lens,
      oracle: source.contracts.oracle,
      collateral: source.collateral.address,
      chainId: source.chainId,
    };
  }
  return source;
}

/** Runs `action`, turning any failure into the SDK's error classes (decoded reverts, network errors). */
export async function guarded<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw toSdkError(error);
  }
}

/** The text of a bytes32 short string (symbols, feed ids), or the hex when it is not one. */
export function bytes32Text(value: string): string {
  try {
    return decodeBytes32String(value);
  } catch {
    return value;
  }
}

export class Connection {
  readonly clearinghouse: Clearinghouse;
  readonly lens: OrderBookLens;
  readonly oracle: IndexOracle;
  readonly collateral: IERC20Metadata;
  private readonly specs = new Map<bigint, SeriesSpecView>();
  private decimals?: number;

  constructor(
    readonly runner: ContractRunner,
    readonly addresses: ClientAddresses,
  ) {
    this.clearinghouse = Clearinghouse__factory.connect(addresses.clearinghouse, runner);
    this.lens = OrderBookLens__factory.connect(addresses.lens, runner);
    this.oracle = IndexOracle__factory.connect(addresses.oracle, runner);
    this.collateral = IERC20Metadata__factory.connect(addresses.collateral, runner);
  }

  /** The provider: the runner itself or the signer's. */
  get provider(): Provider {
    const provider = isSigner(this.runner) ? this.runner.provider : (this.runner as Provider);
    if (provider === null || provider === undefined) throw new SignerRequiredError("reading the chain");
    return provider;
  }

  /** The signer, or SignerRequiredError naming `action`. */
  signer(action: string): Signer {
    if (!isSigner(this.runner)) throw new SignerRequiredError(action);
    return this.runner;
  }

  /** The signer's address, or undefined for a read-only client. */
  async signerAddress(): Promise<string | undefined> {
    return isSigner(this.runner) ? this.runner.getAddress() : undefined;
  }

  /** `account` when given, else the signer's address. */
  async accountOr(account: string | undefined, action: string): Promise<string> {
    if (account !== undefined) return account;
    return this.signer(action).getAddress();
  }

  /** Refuses a node whose chain differs from the deployment's. */
  async checkChain(): Promise<void> {
    if (this.addresses.chainId === undefined) return;
    const { chainId } = await this.provider.getNetwork();
    const expected = BigInt(this.addresses.chainId);
    if (chainId !== expected) throw new WrongChainError(expected, chainId);
  }

  /** Chain time: the latest block's timestamp. */
  async chainNow(): Promise<bigint> {
    const block = await this.provider.getBlock("latest");
    return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
  }

  /** Decimals of the collateral token (read once). */
  async collateralDecimals(): Promise<number> {
    if (this.decimals === undefined) this.decimals = Number(await this.collateral.decimals());
    return this.decimals;
  }

  /** Ids of every listed series, 1 to `seriesCount`. */
  async seriesIds(): Promise<bigint[]> {
    const count = await this.clearinghouse.seriesCount();
    return Array.from({ length: Number(count) }, (_, i) => BigInt(i + 1));
  }

  /** The spec of a series by symbol or id (cached: specs never change once listed). */
  async spec(ref: SeriesRef): Promise<SeriesSpecView> {
    // A listed id seen before needs no call; anything else is resolved (and checked) by `seriesIdOf`.
    const known = typeof ref === "string" ? undefined : this.specs.get(BigInt(ref));
    if (known !== undefined) return known;
    const seriesId = await this.seriesIdOf(ref);
    const cached = this.specs.get(seriesId);
    if (cached !== undefined) return cached;
    const spec = await this.clearinghouse.seriesSpec(seriesId);
    const view: SeriesSpecView = {
      seriesId,
      symbol: bytes32Text(spec.symbol),
      feed: bytes32Text(spec.feedId),
      feedId: spec.feedId,
      expiry: spec.expiry,
      averagingWindowSec: spec.averagingWindowSec,
      methodologyVersion: spec.methodologyVersion,
      minSettlementRounds: spec.minSettlementRounds,
      multiplier: spec.contractMultiplier,
      tickSizeX18: spec.tickSizeX18,
      minQty: spec.minQty,
    };
    this.specs.set(seriesId, view);
    return view;
  }

  /** The id of a series named by symbol or id. */
  async seriesIdOf(ref: SeriesRef): Promise<bigint> {
    if (typeof ref === "bigint" || typeof ref === "number" || /^\d+$/.test(ref.trim())) {
      const seriesId = BigInt(typeof ref === "string" ? ref.trim() : ref);
      if (seriesId === 0n || seriesId > (await this.clearinghouse.seriesCount())) {
        throw new SeriesNotFoundError(String(ref));
      }
      return seriesId;
    }
    const symbol = ref.trim();
    if (symbol.length === 0 || symbol.length > 31) throw new SeriesNotFoundError(ref);
    const seriesId = await this.clearinghouse.seriesIdOf(encodeBytes32String(symbol));
    if (seriesId === 0n) throw new SeriesNotFoundError(ref);
    return seriesId;
  }
}

/** True for a runner that can sign (has `getAddress` and `sendTransaction`). */
export function isSigner(runner: ContractRunner): runner is Signer {
  const candidate = runner as Partial<Signer>;
  return typeof candidate.getAddress === "function" && typeof candidate.sendTransaction === "function";
}
