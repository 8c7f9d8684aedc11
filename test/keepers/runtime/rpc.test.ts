import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet, keccak256, parseEther } from "ethers";
import type { TransactionResponse } from "ethers";
import { MockERC20__factory } from "../../../typechain-types";
import type { MockERC20 } from "../../../typechain-types";
import { FaultProxy, createSeededRandom } from "../../../bench/lib/faultProxy";
import type { Eip1193Provider, FaultKind, FaultProxyOptions } from "../../../bench/lib/faultProxy";
import {
  FailoverRpcProvider,
  RpcHttpStatusError,
  RpcUnavailableError,
  isTransientRpcError,
  parseRpcUrlList,
  redactRpcUrl,
} from "../../../keepers/runtime/rpc";
import type { FailoverRpcOptions, RpcFailureKind } from "../../../keepers/runtime/rpc";
import { KeeperConfigError } from "../../../keepers/shared/errors";
import { sleep } from "../../../keepers/shared/retry";

const CHAIN_ID = 31_337;
/** Small timeouts keep the file fast: a "timeout" fault costs one `timeoutMs`. */
const FAST: Omit<FailoverRpcOptions, "urls"> = {
  chainId: CHAIN_ID,
  timeoutMs: 200,
  attemptsPerRequest: 4,
  baseDelayMs: 5,
  maxDelayMs: 40,
  cooldownMs: 1_000,
  pollingIntervalMs: 50,
};

/** The error `promise` rejects with; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.fail("expected a rejection");
}

/**
 * The hardhat provider, answering the first call of `method` `delayMs` after executing it, as a node whose answer
 * is lost; `calls` counts the calls of `method`.
 */
function slowFirstAnswer(method: string, delayMs: number): Eip1193Provider & { calls: number } {
  return {
    calls: 0,
    async request(args) {
      const result = await hre.network.provider.request(args);
      if (args.method === method && ++this.calls === 1) await sleep(delayMs);
      return result;
    },
  };
}

describe("keepers/runtime/rpc: FailoverRpcProvider over a fault-injecting proxy", function () {
  const proxies: FaultProxy[] = [];
  const providers: FailoverRpcProvider[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  async function startProxy(options: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
    const proxy = await FaultProxy.start({ provider: hre.network.provider, ...options });
    proxies.push(proxy);
    return proxy;
  }

  function connect(urls: string[], overrides: Partial<FailoverRpcOptions> = {}): FailoverRpcProvider {
    const provider = new FailoverRpcProvider({ ...FAST, urls, ...overrides });
    providers.push(provider);
    return provider;
  }

  async function deployToken(): Promise<MockERC20> {
    const [deployer] = await ethers.getSigners();
    const token = await new MockERC20__factory(deployer).deploy("Mock", "MCK", 18);
    await token.waitForDeployment();
    return token;
  }

  /** A fresh wallet on `provider` holding 10 ETH, funded directly through hardhat. */
  async function fundedWallet(provider: FailoverRpcProvider): Promise<Wallet> {
    const [funder] = await ethers.getSigners();
    const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
    await (await funder.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    return wallet;
  }

  before(() => process.on("unhandledRejection", onUnhandled));
  after(() => {
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled, "unhandled rejections").to.deep.equal([]);
  });
  afterEach(async () => {
    for (const provider of providers.splice(0)) provider.destroy();
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  describe("FaultProxy", function () {
    it("forwards single and batch JSON-RPC requests", async function () {
      const proxy = await startProxy();
      const postText = async (text: string) =>
        (await fetch(proxy.url, { method: "POST", body: text })).json() as Promise<unknown>;
      const post = async (body: unknown) => postText(JSON.stringify(body));

      expect(await post({ jsonrpc: "2.0", id: 7, method: "eth_chainId", params: [] })).to.deep.equal({
        jsonrpc: "2.0",
        id: 7,
        result: "0x7a69",
      });
      const blockNumber = (await hre.network.provider.request({ method: "eth_blockNumber" })) as string;
      expect(
        await post([
          { jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] },
          { jsonrpc: "2.0", id: "b", method: "eth_chainId", params: [] },
        ]),
      ).to.deep.equal([
        { jsonrpc: "2.0", id: 1, result: blockNumber },
        { jsonrpc: "2.0", id: "b", result: "0x7a69" },
      ]);
      const invalid = (await post({ jsonrpc: "2.0", id: 3, params: [] })) as { id: number; error: { code: number } };
      expect(invalid).to.deep.include({ id: 3, error: { code: -32600, message: "Invalid request" } });
      const parseError = (await postText("{not json")) as { id: null; error: { code: number } };
      expect(parseError).to.deep.include({ id: null });
      expect(parseError.error.code).to.equal(-32700);
      expect(proxy.stats()).to.include({ requests: 4, rpcCalls: 4, forwarded: 3 });
    });

    it("draws the same faults from the same seed", function () {
      const first = createSeededRandom(42);
      const second = createSeededRandom(42);
      const draws = Array.from({ length: 5 }, () => first());
      expect(draws).to.deep.equal(Array.from({ length: 5 }, () => second()));
      expect(draws.every((value) => value >= 0 && value < 1)).to.equal(true);
      expect(new Set(draws).size).to.equal(5);
    });

    it("returns a revert as a JSON-RPC error that ethers decodes into the custom error", async function () {
      const proxy = await startProxy();
      const provider = connect([proxy.url]);
      const token = await deployToken();
      const [holder, other] = await ethers.getSigners();
      await (await token.mint(holder.address, 1_000n)).wait();

      expect(await provider.getBlockNumber()).to.equal(await ethers.provider.getBlockNumber());
      expect((await provider.getNetwork()).chainId).to.equal(BigInt(CHAIN_ID));
      const readOnlyToken = token.connect(provider);
      expect(await readOnlyToken.balanceOf(holder.address)).to.equal(1_000n);
      expect(await readOnlyToken.symbol()).to.equal("MCK");

      const callError = (await rejectionOf(
        readOnlyToken.transfer.staticCall(other.address, 5n, { from: other.address }),
      )) as { code: string; revert: { name: string; args: unknown[] } };
      expect(callError.code).to.equal("CALL_EXCEPTION");
      expect(callError.revert.name).to.equal("ERC20InsufficientBalance");
      expect(callError.revert.args).to.deep.equal([other.address, 0n, 5n]);

      const wallet = await fundedWallet(provider);
      await expect(token.connect(wallet).transfer(other.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(wallet.address, 0n, 1n);
    });
  });

  describe("FailoverRpcProvider", function () {
    it("completes 200 reads and 20 signed transactions through a proxy failing 30% of requests", async function () {
      const proxy = await startProxy({ failureRate: 0.3, seed: 7, timeoutHoldMs: 300 });
      const provider = connect([proxy.url], { attemptsPerRequest: 10, cooldownMs: 0 });
      const token = await deployToken();
      const [holder, recipient] = await ethers.getSigners();
      await (await token.mint(holder.address, 123n)).wait();
      const readOnlyToken = token.connect(provider);

      const expectedChainHead = await ethers.provider.getBlockNumber();
      const expectedBalance = await ethers.provider.getBalance(holder.address);
      const reads = Array.from({ length: 200 }, (_, i) => i);
      for (let start = 0; start < reads.length; start += 10) {
        await Promise.all(
          reads.slice(start, start + 10).map(async (i) => {
            if (i % 3 === 0) expect(await provider.getBlockNumber()).to.equal(expectedChainHead);
            else if (i % 3 === 1) expect(await provider.getBalance(holder.address)).to.equal(expectedBalance);
            else expect(await readOnlyToken.balanceOf(holder.address)).to.equal(123n);
          }),
        );
      }

      const wallet = await fundedWallet(provider);
      const recipientBalanceBefore = await ethers.provider.getBalance(recipient.address);
      let minted = 0n;
      for (let i = 0; i < 20; i++) {
        const tx: TransactionResponse =
          i % 2 === 0
            ? await token.connect(wallet).mint(wallet.address, BigInt(i + 1))
            : await wallet.sendTransaction({ to: recipient.address, value: 1_000n });
        if (i % 2 === 0) minted += BigInt(i + 1);
        const receipt = await tx.wait();
        expect(receipt?.status).to.equal(1);
        expect(receipt?.hash).to.equal(tx.hash);
      }

      expect(await ethers.provider.getTransactionCount(wallet.address)).to.equal(20);
      expect(await token.balanceOf(wallet.address)).to.equal(minted);
      expect((await ethers.provider.getBalance(recipient.address)) - recipientBalanceBefore).to.equal(10_000n);
      const faults = proxy.stats().faults;
      const injected = Object.values(faults).reduce((sum, count) => sum + count, 0);
      expect(injected).to.be.greaterThan(50);
      expect(
        Object.values(faults).every((count) => count > 0),
        JSON.stringify(faults),
      ).to.equal(true);
      const stats = provider.stats();
      expect(stats.retries).to.be.greaterThanOrEqual(injected);
      expect(stats.unavailable).to.equal(0);
      expect(unhandled).to.deep.equal([]);
    });

    it("fails over to the secondary during an outage of the primary and returns once it recovers", async function () {
      const primary = await startProxy();
      const secondary = await startProxy();
      const provider = connect([primary.url, secondary.url], { cooldownMs: 500 });
      const chainHead = await ethers.provider.getBlockNumber();

      expect(await provider.getBlockNumber()).to.equal(chainHead);
      expect(provider.stats().currentEndpointIndex).to.equal(0);

      primary.setOutage(true);
      for (let i = 0; i < 5; i++) expect(await provider.getBlockNumber()).to.equal(chainHead);
      expect(provider.stats()).to.include({ currentEndpointIndex: 1, failovers: 1, recoveries: 0 });
      expect(provider.stats().failuresByKind.connection).to.equal(1);
      expect(provider.stats().endpoints[0].healthy).to.equal(false);
      // In cool-down the primary is skipped: it saw only the one request that failed.
      expect(primary.stats()).to.include({ requests: 2, outageRejections: 1, forwarded: 1 });
      expect(secondary.stats().forwarded).to.equal(5);

      primary.setOutage(false);
      await sleep(550);
      expect(await provider.getBlockNumber()).to.equal(chainHead);
      expect(provider.stats()).to.include({ currentEndpointIndex: 0, failovers: 1, recoveries: 1 });
      expect(primary.stats().forwarded).to.equal(2);
      expect(secondary.stats().forwarded).to.equal(5);
    });

    it("with every endpoint cooling down, goes to the one with fewer failures in a row, not to a dead primary", async function () {
      const primary = await startProxy();
      const secondary = await startProxy({ faultKinds: ["http502"] });
      const provider = connect([primary.url, secondary.url], { attemptsPerRequest: 2, cooldownMs: 60_000 });
      await provider.getBlockNumber(); // the primary answered last
      primary.setOutage(true);
      secondary.setFailureRate(1);
      // One failure each: both cool down, the primary answered more recently.
      expect(await rejectionOf(provider.getBlockNumber())).to.be.instanceOf(RpcUnavailableError);
      secondary.setFailureRate(0);
      // The primary is tried (tie on failures in a row, more recent answer) and fails again; the second attempt
      // goes to the secondary, which failed once in a row against the primary's two.
      expect(await provider.getBlockNumber()).to.equal(await ethers.provider.getBlockNumber());
      expect(primary.stats().outageRejections).to.equal(2);
      expect(secondary.stats().forwarded).to.equal(1);
      expect(provider.stats().currentEndpointIndex).to.equal(1);
    });

    it("probes the primary after its cool-down and stays on the secondary while it is still down", async function () {
      const primary = await startProxy({ outageMode: "http503" });
      const secondary = await startProxy();
      const provider = connect([primary.url, secondary.url], { cooldownMs: 200 });
      primary.setOutage(true);

      await provider.getBlockNumber();
      await sleep(250);
      await provider.getBlockNumber();

      expect(primary.stats().outageRejections).to.equal(2);
      expect(secondary.stats().forwarded).to.equal(2);
      expect(provider.stats().failuresByKind.http5xx).to.equal(2);
      expect(provider.stats()).to.include({ currentEndpointIndex: 1, failovers: 1, recoveries: 0 });
    });

    it("when every endpoint cools down, retries the secondary that answered, not only the dead primary", async function () {
      const primary = await startProxy();
      let faultNextCall = false;
      const secondary: FaultProxy = await startProxy({
        faultKinds: ["http502"],
        onCall: () => {
          secondary.setFailureRate(faultNextCall ? 1 : 0);
          faultNextCall = false;
        },
      });
      const provider = connect([primary.url, secondary.url], { cooldownMs: 60_000 });
      primary.setOutage(true);
      // The primary fails and cools down; the secondary answers.
      await provider.getBlockNumber();
      // One fault on the secondary cools it down too: both have failed once in a row, and the retry goes back to
      // the secondary, the endpoint that answered.
      faultNextCall = true;
      await provider.getBlockNumber();
      expect(primary.stats().outageRejections).to.equal(1);
      expect(secondary.stats().forwarded).to.equal(2);
      expect(provider.stats().currentEndpointIndex).to.equal(1);
    });

    it("hedges a slow attempt: the second endpoint answers first and the request does not wait out the timeout", async function () {
      const slow = await startProxy({ failureRate: 1, faultKinds: ["timeout"], timeoutHoldMs: 2_000 });
      const fast = await startProxy();
      const provider = connect([slow.url, fast.url], { timeoutMs: 1_500, hedgeAfterMs: 50 });
      const startedMs = Date.now();
      expect(await provider.getBlockNumber()).to.equal(await ethers.provider.getBlockNumber());
      expect(Date.now() - startedMs).to.be.lessThan(1_000);
      expect(provider.stats()).to.include({ hedges: 1, retries: 0 });
      expect(fast.stats().forwarded).to.equal(1);
    });

    it("hedges to the same endpoint when every other one cools down (an outage of the primary)", async function () {
      const primary = await startProxy();
      let faultNextCall = false;
      // The secondary holds exactly one call (the next after arming) and answers every other at once.
      const secondary: FaultProxy = await startProxy({
        faultKinds: ["timeout"],
        timeoutHoldMs: 2_000,
        onCall: () => {
          secondary.setFailureRate(faultNextCall ? 1 : 0);
          faultNextCall = false;
        },
      });
      const provider = connect([primary.url, secondary.url], {
        timeoutMs: 1_500,
        hedgeAfterMs: 50,
        cooldownMs: 60_000,
      });
      primary.setOutage(true);
      await provider.getBlockNumber(); // the primary fails and cools down; the secondary answers
      expect(provider.stats().currentEndpointIndex).to.equal(1);
      const hedgesBefore = provider.stats().hedges;
      faultNextCall = true;
      const startedMs = Date.now();
      expect(await provider.getBlockNumber()).to.equal(await ethers.provider.getBlockNumber());
      expect(Date.now() - startedMs).to.be.lessThan(1_000, "answered by the hedge, not after the timeout");
      expect(provider.stats().hedges - hedgesBefore).to.equal(1);
      expect(secondary.stats().faults.timeout).to.equal(1);
      expect(primary.stats().outageRejections).to.equal(1, "the hedge did not go to the primary in its outage");
    });

    const faultKindsSeenAs: Array<[FaultKind, RpcFailureKind]> = [
      ["timeout", "timeout"],
      ["http429", "http429"],
      ["http502", "http5xx"],
      ["rpc32000", "rpcTransient"],
      ["malformed", "malformed"],
      ["reset", "connection"],
    ];
    for (const [fault, kind] of faultKindsSeenAs) {
      it(`retries a "${fault}" fault on the next endpoint and counts it as ${kind}`, async function () {
        const failing = await startProxy({ failureRate: 1, faultKinds: [fault], timeoutHoldMs: 300 });
        const healthy = await startProxy();
        const provider = connect([failing.url, healthy.url]);

        expect(await provider.getBlockNumber()).to.equal(await ethers.provider.getBlockNumber());
        const stats = provider.stats();
        expect(stats.failuresByKind[kind]).to.equal(1);
        expect(stats).to.include({ retries: 1, failovers: 1, unavailable: 0 });
        expect(failing.stats().faults[fault]).to.equal(1);
      });
    }

    it("retries a timed-out read on the same endpoint with the same request id", async function () {
      const node = slowFirstAnswer("eth_blockNumber", 400);
      const idsOnTheWire: unknown[] = [];
      const proxy = await startProxy({
        provider: node,
        onCall: (call) => idsOnTheWire.push((call as { id: unknown }).id),
      });
      const provider = connect([proxy.url]);

      expect(await provider.getBlockNumber()).to.equal(await ethers.provider.getBlockNumber());
      expect(node.calls).to.equal(2);
      expect(provider.stats().failuresByKind.timeout).to.equal(1);
      expect(provider.stats()).to.include({ retries: 1, failovers: 0, currentEndpointIndex: 0 });
      expect(idsOnTheWire).to.have.length(2);
      expect(idsOnTheWire[1]).to.equal(idsOnTheWire[0]);
    });

    it("answers a batch in request order and retries it whole after a fault", async function () {
      const failing = await startProxy({ failureRate: 1, faultKinds: ["http502"] });
      const healthy = await startProxy();
      const provider = connect([failing.url, healthy.url]);
      const blockNumber = (await hre.network.provider.request({ method: "eth_blockNumber" })) as string;

      const responses = await provider._send([
        { jsonrpc: "2.0", id: 11, method: "eth_blockNumber", params: [] },
        { jsonrpc: "2.0", id: 12, method: "eth_chainId", params: [] },
        { jsonrpc: "2.0", id: 13, method: "eth_getBalance", params: ["0xzz", "latest"] },
      ]);

      expect(responses.slice(0, 2)).to.deep.equal([
        { id: 11, result: blockNumber },
        { id: 12, result: "0x7a69" },
      ]);
      expect(responses[2]).to.have.property("error").that.has.property("code").that.is.a("number");
      expect(failing.stats().faults.http502).to.equal(1);
      expect(healthy.stats()).to.include({ requests: 1, forwarded: 3 });
    });

    it("does not retry a revert", async function () {
      const proxy = await startProxy();
      const provider = connect([proxy.url], { attemptsPerRequest: 5 });
      const token = await deployToken();
      const [, other] = await ethers.getSigners();
      proxy.resetStats();

      const error = (await rejectionOf(
        token.connect(provider).transfer.staticCall(other.address, 1n, { from: other.address }),
      )) as { code: string; revert: { name: string } };
      expect(error.code).to.equal("CALL_EXCEPTION");
      expect(error.revert.name).to.equal("ERC20InsufficientBalance");
      expect(proxy.stats().forwardedByMethod.eth_call).to.equal(1);
      expect(provider.stats().retries).to.equal(0);
    });

    it("reports a broadcast whose answer was lost as sent when the retry meets 'nonce too low'", async function () {
      const proxy = await startProxy();
      const provider = connect([proxy.url]);
      const wallet = await fundedWallet(provider);
      const [recipient] = await ethers.getSigners();
      const signed = await wallet.signTransaction(await wallet.populateTransaction({ to: recipient, value: 1n }));
      const slowProxy = await startProxy({ provider: slowFirstAnswer("eth_sendRawTransaction", 400) });
      const slowProvider = connect([slowProxy.url]);

      const response = await slowProvider.broadcastTransaction(signed);

      expect(response.hash).to.equal(keccak256(signed));
      expect((await ethers.provider.getTransactionReceipt(response.hash))?.status).to.equal(1);
      expect(slowProvider.stats()).to.include({ duplicateBroadcasts: 1 });
      expect(slowProxy.stats().forwardedByMethod).to.include({
        eth_sendRawTransaction: 2,
        eth_getTransactionByHash: 1,
      });
    });

    it("treats 'already known' from eth_sendRawTransaction as success with the transaction hash", async function () {
      const knowsEverything: Eip1193Provider = {
        async request(args) {
          if (args.method === "eth_sendRawTransaction") {
            throw Object.assign(new Error("already known"), { code: -32000 });
          }
          return hre.network.provider.request(args);
        },
      };
      const proxy = await startProxy({ provider: knowsEverything });
      const provider = connect([proxy.url]);
      const wallet = Wallet.createRandom();
      const signed = await wallet.signTransaction({
        to: wallet.address,
        value: 1n,
        nonce: 0,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
        chainId: CHAIN_ID,
        type: 2,
      });

      const response = await provider.broadcastTransaction(signed);

      expect(response.hash).to.equal(keccak256(signed));
      expect(provider.stats()).to.include({ duplicateBroadcasts: 1, retries: 0 });
    });

    it("does not retry HTTP 4xx other than 429", async function () {
      let hits = 0;
      const forbidding = createServer((_req, res) => {
        hits += 1;
        res.writeHead(403).end("forbidden");
      });
      await new Promise<void>((resolve) => forbidding.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = forbidding.address() as AddressInfo;
        const provider = connect([`http://127.0.0.1:${port}`]);
        const error = await rejectionOf(provider.getBlockNumber());
        expect(error).to.be.instanceOf(RpcHttpStatusError);
        expect((error as RpcHttpStatusError).status).to.equal(403);
        expect(hits).to.equal(1);
      } finally {
        await new Promise((resolve) => forbidding.close(resolve));
      }
    });

    it("throws RpcUnavailableError naming the last error of every endpoint when all are down", async function () {
      const down = await startProxy();
      down.setOutage(true);
      const gone = await startProxy();
      const goneUrl = gone.url;
      await gone.close();
      proxies.splice(proxies.indexOf(gone), 1);
      const provider = connect([down.url, goneUrl], { attemptsPerRequest: 3, cooldownMs: 50 });

      const error = await rejectionOf(provider.getBlockNumber());

      expect(error).to.be.instanceOf(RpcUnavailableError);
      const unavailable = error as RpcUnavailableError;
      expect(unavailable.attempts).to.equal(3);
      expect([...unavailable.lastErrorByEndpoint.keys()]).to.have.members([down.url, goneUrl]);
      expect([...unavailable.lastErrorByEndpoint.values()].map((e) => e.kind)).to.deep.equal([
        "connection",
        "connection",
      ]);
      expect(unavailable.message).to.match(/ECONNREFUSED/);
      expect(provider.stats()).to.include({ unavailable: 1, attempts: 3 });
    });

    it("builds from a comma-separated URL list and hides URL paths in its stats", function () {
      const provider = FailoverRpcProvider.fromUrlList(
        " https://rpc.example.org/v2/SECRET-KEY , http://127.0.0.1:8545 ,https://rpc.example.org/v2/OTHER-KEY",
        FAST,
      );
      providers.push(provider);
      expect(provider.stats().endpoints.map((endpoint) => endpoint.endpoint)).to.deep.equal([
        "https://rpc.example.org/…",
        "http://127.0.0.1:8545",
        "https://rpc.example.org/… #2",
      ]);
      expect(redactRpcUrl("https://user:pw@rpc.example.org/?key=1")).to.equal("https://rpc.example.org/…");
      expect(parseRpcUrlList("http://a:1,,http://b:2")).to.deep.equal(["http://a:1", "http://b:2"]);
      expect(() => parseRpcUrlList(" , ")).to.throw(KeeperConfigError);
      expect(() => parseRpcUrlList("ws://a:1")).to.throw(KeeperConfigError, /http/);
      expect(() => new FailoverRpcProvider({ ...FAST, urls: ["http://a:1"], attemptsPerRequest: 0 })).to.throw(
        KeeperConfigError,
        /attemptsPerRequest/,
      );
    });

    it("classifies JSON-RPC errors as transient only when they look like an overloaded or lagging node", function () {
      expect(isTransientRpcError({ code: -32000, message: "header not found" })).to.equal(true);
      expect(isTransientRpcError({ code: -32005, message: "limit exceeded" })).to.equal(true);
      expect(isTransientRpcError({ code: -32016, message: "rate limit reached, try again" })).to.equal(true);
      expect(isTransientRpcError({ code: -32000, message: "execution reverted" })).to.equal(false);
      expect(isTransientRpcError({ code: -32000, message: "nonce too low" })).to.equal(false);
      expect(isTransientRpcError({ code: -32000, message: "request timed out", data: "0x08c379a0" })).to.equal(false);
      expect(isTransientRpcError({ code: -32603, message: "header not found" })).to.equal(false);
      expect(isTransientRpcError({ code: 3, message: "execution reverted", data: "0x" })).to.equal(false);
    });
  });
});
