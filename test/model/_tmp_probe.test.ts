import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deploy6, fill } from "../fixtures/clearinghouse";

describe("probe", function () {
  it("timestamps", async function () {
    const f = await loadFixture(deploy6);
    const t0 = BigInt(await time.latest());
    const [, obs, , stale] = await f.oracle.peekLatest(await f.clearinghouse.seriesSpec(1).then((s) => s.feedId));
    console.log("latest", t0, "obs", obs, stale);
    await time.increaseTo(t0 + 86_400n + 5n);
    const [, , , stale2] = await f.oracle.peekLatest((await f.clearinghouse.seriesSpec(1)).feedId);
    console.log("after increase: latest", await time.latest(), "stale(view)", stale2);
    // reverted tx with gasLimit: mined?
    const bn = await ethers.provider.getBlockNumber();
    await time.setNextBlockTimestamp(t0 + 86_400n + 100n);
    await expect(
      f.clearinghouse.connect(f.engine).applyTrade(fill(1n, f.alice.address, f.bob.address, 1n, "4"), { gasLimit: 3_000_000 }),
    ).to.be.revertedWithCustomError(f.clearinghouse, "IndexStale");
    console.log("block before", bn, "after", await ethers.provider.getBlockNumber(), "ts", await time.latest());
    await time.setNextBlockTimestamp(t0 + 86_400n + 200n);
    await expect(
      f.clearinghouse.connect(f.engine).applyTrade(fill(1n, f.alice.address, f.bob.address, 1n, "4")),
    ).to.be.revertedWithCustomError(f.clearinghouse, "IndexStale");
    console.log("no gaslimit: block", await ethers.provider.getBlockNumber(), "ts", await time.latest());
    await f.clearinghouse.connect(f.alice).deposit(1n);
    console.log("deposit block ts", await time.latest());
  });
  it("reset", async function () {
    await loadFixture(deploy6);
    console.log("after reload ts", await time.latest());
  });
});
