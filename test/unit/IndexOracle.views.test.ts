import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { IndexFeedAggregator__factory } from "../../typechain-types";
import { parseX18 } from "../../sdk";
import { AIT, DEFAULT_PARAMS, GPUH, agreeing, deployOracleFixture, submitRoundAfter } from "../fixtures/oracle";

async function withRoundsFixture() {
  const fixture = await deployOracleFixture();
  const first = await submitRoundAfter(fixture.oracle, fixture.reporters, agreeing("4"), 60n);
  const second = await submitRoundAfter(fixture.oracle, fixture.reporters, agreeing("4.1"), 3_600n);
  const aggregator = await new IndexFeedAggregator__factory(fixture.deployer).deploy(
    await fixture.oracle.getAddress(),
    AIT,
    "AIT / USD per 1M tokens",
  );
  return { ...fixture, first, second, aggregator };
}

describe("IndexOracle views and staleness (ORC-10)", function () {
  it("#latestPrice reverts once the price is older than the max age", async function () {
    const { oracle, second } = await loadFixture(withRoundsFixture);
    await time.increaseTo(second.observedAt + DEFAULT_PARAMS.maxAgeSec);
    expect((await oracle.latestPrice(AIT))[0]).to.equal(parseX18("4.1"));
    await time.increase(1);
    await expect(oracle.latestPrice(AIT))
      .to.be.revertedWithCustomError(oracle, "FeedStale")
      .withArgs(AIT, second.observedAt, DEFAULT_PARAMS.maxAgeSec);
  });

  it("#peekLatest reports staleness explicitly instead of reverting", async function () {
    const { oracle, second } = await loadFixture(withRoundsFixture);
    let [price, at, roundId, stale] = await oracle.peekLatest(AIT);
    expect([price, at, roundId, stale]).to.deep.equal([parseX18("4.1"), second.observedAt, 2n, false]);
    await time.increase(DEFAULT_PARAMS.maxAgeSec + 1n);
    [price, at, roundId, stale] = await oracle.peekLatest(AIT);
    expect(stale).to.equal(true);
  });

  it("#observationAt returns retained rounds and reverts outside them", async function () {
    const { oracle, first } = await loadFixture(withRoundsFixture);
    const observation = await oracle.observationAt(AIT, 1n);
    expect(observation.observedAt).to.equal(first.observedAt);
    expect(observation.priceX18).to.equal(parseX18("4"));
    expect(observation.cumulativeX18).to.equal(0n);
    const second = await oracle.observationAt(AIT, 2n);
    expect(second.cumulativeX18).to.equal(parseX18("4") * (second.observedAt - first.observedAt));
    for (const id of [0n, 3n]) {
      await expect(oracle.observationAt(AIT, id))
        .to.be.revertedWithCustomError(oracle, "RoundNotInHistory")
        .withArgs(AIT, id);
    }
    await expect(oracle.observationAt(GPUH, 1n)).to.be.revertedWithCustomError(oracle, "UnknownFeed");
  });

  describe("IndexFeedAggregator (Chainlink AggregatorV3 view)", function () {
    it("reports decimals, description and the latest round", async function () {
      const { aggregator, second } = await loadFixture(withRoundsFixture);
      expect(await aggregator.decimals()).to.equal(18n);
      expect(await aggregator.version()).to.equal(1n);
      expect(await aggregator.description()).to.equal("AIT / USD per 1M tokens");
      const [roundId, answer, startedAt, updatedAt, answeredInRound] = await aggregator.latestRoundData();
      expect([roundId, answer, startedAt, updatedAt, answeredInRound]).to.deep.equal([
        2n,
        parseX18("4.1"),
        second.observedAt,
        second.observedAt,
        2n,
      ]);
    });

    it("returns historical rounds and reverts for rounds it does not hold", async function () {
      const { aggregator, oracle, first } = await loadFixture(withRoundsFixture);
      const [roundId, answer, , updatedAt] = await aggregator.getRoundData(1n);
      expect([roundId, answer, updatedAt]).to.deep.equal([1n, parseX18("4"), first.observedAt]);
      await expect(aggregator.getRoundData(9n)).to.be.revertedWithCustomError(oracle, "RoundNotInHistory");
    });

    it("reverts latestRoundData when the feed is stale", async function () {
      const { aggregator, oracle } = await loadFixture(withRoundsFixture);
      await time.increase(DEFAULT_PARAMS.maxAgeSec + 1n);
      await expect(aggregator.latestRoundData()).to.be.revertedWithCustomError(oracle, "FeedStale");
    });

    it("refuses a feed the oracle does not know", async function () {
      const { oracle, deployer } = await loadFixture(withRoundsFixture);
      const factory = new IndexFeedAggregator__factory(deployer);
      await expect(factory.deploy(await oracle.getAddress(), GPUH, "GPUH"))
        .to.be.revertedWithCustomError(factory, "AggregatorFeedUnknown")
        .withArgs(GPUH);
    });
  });

  it("exposes the EIP-712 domain of the reports", async function () {
    const { oracle, domain } = await loadFixture(withRoundsFixture);
    const eip712 = await oracle.eip712Domain();
    expect(eip712.name).to.equal("Tokenpit IndexOracle");
    expect(eip712.version).to.equal("1");
    expect(eip712.chainId).to.equal(domain.chainId);
    expect(eip712.verifyingContract).to.equal(domain.oracle);
    expect(await oracle.REPORT_TYPEHASH()).to.equal(
      ethers.id(
        "Report(bytes32 feedId,uint256 priceX18,uint64 observedAt,uint16 methodologyVersion,bytes32 sourceHash)",
      ),
    );
  });
});

describe("IndexOracle #prewarmHistory", function () {
  it("pre-writes unused slots from the round count on, without touching prices", async function () {
    const { oracle, reporters, stranger } = await loadFixture(deployOracleFixture);
    const first = await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
    // Anyone may pay for it; slot 0 holds round 1, so pre-writing starts at slot 1.
    await expect(oracle.connect(stranger).prewarmHistory(AIT, 10n))
      .to.emit(oracle, "HistoryPrewarmed")
      .withArgs(AIT, 1n, 11n);
    await expect(oracle.prewarmHistory(AIT, 5n)).to.emit(oracle, "HistoryPrewarmed").withArgs(AIT, 11n, 16n);
    expect((await oracle.feedState(AIT)).prewarmedSlots).to.equal(16n);
    const [price, at, roundId] = await oracle.peekLatest(AIT);
    expect([price, at, roundId]).to.deep.equal([parseX18("4"), first.observedAt, 1n]);
    await expect(oracle.observationAt(AIT, 2n)).to.be.revertedWithCustomError(oracle, "RoundNotInHistory");
    // A round written into a pre-written slot reads back normally.
    const second = await submitRoundAfter(oracle, reporters, agreeing("4.2"), 3_600n);
    const observation = await oracle.observationAt(AIT, 2n);
    expect([observation.priceX18, observation.observedAt]).to.deep.equal([parseX18("4.2"), second.observedAt]);
    expect(observation.cumulativeX18).to.equal(parseX18("4") * (second.observedAt - first.observedAt));
  });

  it("stops at the history capacity and is a no-op after it", async function () {
    const { oracle } = await loadFixture(deployOracleFixture);
    const capacity = await oracle.HISTORY_CAPACITY();
    // In chunks that fit a block; the last request asks for more than remains.
    for (let done = 0n; done < capacity; done += 500n) await oracle.prewarmHistory(AIT, 500n);
    expect((await oracle.feedState(AIT)).prewarmedSlots).to.equal(capacity);
    await expect(oracle.prewarmHistory(AIT, 1n)).to.not.emit(oracle, "HistoryPrewarmed");
    await expect(oracle.prewarmHistory(GPUH, 1n)).to.be.revertedWithCustomError(oracle, "UnknownFeed");
  });
});
