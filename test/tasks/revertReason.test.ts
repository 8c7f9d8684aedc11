/**
 * The command line's one-line failure reasons (tasks/lib/revertReason.ts) for revert data wherever a provider
 * puts it: ethers' `error.data`, a JSON-RPC node's `error.info.error.data`, only the message (Hardhat), or nowhere.
 */
import { expect } from "chai";
import { Clearinghouse__factory, IndexOracle__factory } from "../../typechain-types";
import { describeFailure } from "../../tasks/lib/revertReason";
import { CliError } from "../../tasks/lib/cliError";
import { feedIdOf, parseX18 } from "../../sdk";
import { DeploymentFileError } from "../../sdk/deployment";

const ch = Clearinghouse__factory.createInterface();
const oracle = IndexOracle__factory.createInterface();
const ACCOUNT = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";

describe("describeFailure", function () {
  const margin = ch.encodeErrorResult("InsufficientMargin", [ACCOUNT, -parseX18("12.5"), parseX18("1234.5")]);

  it("decodes ethers' error.data with argument names and X18 amounts in USD", function () {
    const error = Object.assign(new Error("execution reverted (unknown custom error)"), { data: margin });
    expect(describeFailure(error, [ch])).to.equal(
      `InsufficientMargin(account ${ACCOUNT}, equity -12.5, required 1234.5)`,
    );
  });

  it("finds the data of a JSON-RPC node under error.info.error.data, with the second interface", function () {
    const data = oracle.encodeErrorResult("FeedStale", [feedIdOf("AIT"), 1_700_000_000n, 86_400n]);
    const error = Object.assign(new Error("could not coalesce error"), { info: { error: { code: 3, data } } });
    expect(describeFailure(error, [ch, oracle])).to.equal(
      "FeedStale(feedId AIT, observedAt 1700000000, maxAgeSec 86400)",
    );
  });

  it("decodes an oracle error nested in a clearinghouse error's bytes", function () {
    const inner = oracle.encodeErrorResult("FeedHasNoData", [feedIdOf("GPUH")]);
    const data = ch.encodeErrorResult("SettlementDataUnavailable", [4, inner]);
    expect(describeFailure({ data }, [ch, oracle])).to.equal(
      "SettlementDataUnavailable(seriesId 4, oracleError FeedHasNoData(feedId GPUH))",
    );
  });

  it("falls back to the custom error named in the message, and names an unknown selector only", function () {
    const hardhat = new Error(
      "VM Exception while processing transaction: reverted with custom error 'ZeroAmount()'\n  at ...",
    );
    expect(describeFailure(hardhat, [])).to.equal("ZeroAmount()");
    const unknown = { data: "0xdeadbeef" + "00".repeat(64) };
    expect(describeFailure(unknown, [ch])).to.equal("reverted with unknown error 0xdeadbeef");
  });

  it("prints project errors and other failures as their first line", function () {
    expect(describeFailure(new CliError("bad --qty"), [ch])).to.equal("bad --qty");
    expect(describeFailure(new DeploymentFileError("no deployment file at x.json\nmore"), [ch])).to.equal(
      "no deployment file at x.json",
    );
    expect(describeFailure(new Error("connect ECONNREFUSED 127.0.0.1:8545\n    at stack"), [ch])).to.equal(
      "connect ECONNREFUSED 127.0.0.1:8545",
    );
  });
});
