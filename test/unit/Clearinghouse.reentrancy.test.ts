import { order } from "../helpers/orders";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeBytes32String } from "ethers";
import type { ContractTransactionResponse } from "ethers";
import { CallbackToken__factory, Clearinghouse__factory } from "../../typechain-types";
import { parseX18 } from "../../sdk";
import { AIT, aitRisk, aitSpec, deployClearinghouseOver, fill, units } from "../fixtures/clearinghouse";
import { mutatingFunctionNames, publishThroughExpiry } from "../helpers/clearinghouse";

const UNIT = units(1, 6);
const SCALE = 10n ** 12n;

/**
 * A clearinghouse over CallbackToken (6 decimals) with one AIT series; alice and bob hold opposite
 * positions (so the fee pool holds 24 USD), carol funded the insurance fund with 1,000 tokens.
 * The callback is off until a test sets it.
 */
async function callbackFixture() {
  const f = await deployClearinghouseOver((admin) => new CallbackToken__factory(admin).deploy(), 6);
  const { clearinghouse, alice, bob, carol, engine } = f;
  const roles = {
    DEFAULT_ADMIN_ROLE: await clearinghouse.DEFAULT_ADMIN_ROLE(),
    MARKET_ADMIN_ROLE: await clearinghouse.MARKET_ADMIN_ROLE(),
    GUARDIAN_ROLE: await clearinghouse.GUARDIAN_ROLE(),
    DIRECT_FILLER_ROLE: await clearinghouse.DIRECT_FILLER_ROLE(),
  };
  await clearinghouse.connect(alice).deposit(units(100_000, 6));
  await clearinghouse.connect(bob).deposit(units(100_000, 6));
  await clearinghouse.connect(carol).contributeInsurance(units(1_000, 6));
  await clearinghouse.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 10n, "4"));
  // A resting bid of alice, for the cancel and replace calls a re-entering token would try.
  const aliceOrderId = (
    await clearinghouse.connect(alice).placeOrder.staticCall(order(1n, alice.address, true, 1n, "3.9"))
  ).orderId;
  await clearinghouse.connect(alice).placeOrder(order(1n, alice.address, true, 1n, "3.9"));
  return { ...f, roles, aliceOrderId };
}

type Fixture = Awaited<ReturnType<typeof callbackFixture>>;
type RoleName = keyof Fixture["roles"];

/** Calldata of a plausible call of each mutating function, as a re-entering token would send it. */
const CALLDATA: Record<string, (f: Fixture, tokenAddress: string) => string> = {
  cancelAllOrders: (f) => iface().encodeFunctionData("cancelAllOrders", [f.alice.address, 1n]),
  cancelOrder: (f) => iface().encodeFunctionData("cancelOrder", [f.aliceOrderId]),
  challengeSettlement: () => iface().encodeFunctionData("challengeSettlement", [1n]),
  contributeInsurance: () => iface().encodeFunctionData("contributeInsurance", [1n]),
  coverDeficit: (f) => iface().encodeFunctionData("coverDeficit", [f.alice.address]),
  deleverage: (f) =>
    iface().encodeFunctionData("deleverage", [f.alice.address, [{ counterparty: f.bob.address, seriesId: 1n }]]),
  liquidate: (f) => iface().encodeFunctionData("liquidate", [f.alice.address, 1n, 1n]),
  liquidateBatch: (f) =>
    iface().encodeFunctionData("liquidateBatch", [[{ account: f.alice.address, seriesId: 1n, maxQty: 1n }]]),
  deposit: () => iface().encodeFunctionData("deposit", [1n]),
  depositFor: (f) => iface().encodeFunctionData("depositFor", [f.alice.address, 1n]),
  finalizeSettlement: () => iface().encodeFunctionData("finalizeSettlement", [1n]),
  grantRole: (f, token) => iface().encodeFunctionData("grantRole", [f.roles.GUARDIAN_ROLE, token]),
  listSeries: (f) =>
    iface().encodeFunctionData("listSeries", [
      aitSpec(f.expiry, { symbol: encodeBytes32String("AIT-REENTER") }),
      aitRisk(),
    ]),
  pause: () => iface().encodeFunctionData("pause"),
  placeOrder: (f) => iface().encodeFunctionData("placeOrder", [order(1n, f.alice.address, true, 1n, "3.9")]),
  renounceRole: (f, token) => iface().encodeFunctionData("renounceRole", [f.roles.GUARDIAN_ROLE, token]),
  replaceOrder: (f) =>
    iface().encodeFunctionData("replaceOrder", [f.aliceOrderId, order(1n, f.alice.address, true, 1n, "3.8")]),
  revokeRole: (f) => iface().encodeFunctionData("revokeRole", [f.roles.GUARDIAN_ROLE, f.guardian.address]),
  setInsuranceFeeShare: () => iface().encodeFunctionData("setInsuranceFeeShare", [5_000n]),
  setOperator: (f) => iface().encodeFunctionData("setOperator", [f.stranger.address, true]),
  setRiskParams: () => iface().encodeFunctionData("setRiskParams", [1n, aitRisk({ imBps: 5_000 })]),
  setSettlementDelays: () => iface().encodeFunctionData("setSettlementDelays", [3_600n, 2n * 86_400n]),
  setSettlementPriceByGovernance: () =>
    iface().encodeFunctionData("setSettlementPriceByGovernance", [1n, parseX18("4")]),
  settleAccount: (f) => iface().encodeFunctionData("settleAccount", [1n, f.alice.address]),
  settleAccounts: (f) => iface().encodeFunctionData("settleAccounts", [1n, [f.alice.address, f.bob.address]]),
  unpause: () => iface().encodeFunctionData("unpause"),
  // A thief's attempt: take alice's collateral to the stranger.
  withdraw: (f) => iface().encodeFunctionData("withdraw", [f.alice.address, 1n, f.stranger.address]),
  withdrawFees: (f) => iface().encodeFunctionData("withdrawFees", [f.stranger.address, 1n]),
  withdrawInsurance: (f) => iface().encodeFunctionData("withdrawInsurance", [f.stranger.address, 1n]),
};

/** Functions with the nonReentrant modifier: every value-moving or position-changing entry point. */
const GUARDED = [
  "cancelAllOrders",
  "cancelOrder",
  "challengeSettlement",
  "contributeInsurance",
  "coverDeficit",
  "deleverage",
  "deposit",
  "depositFor",
  "finalizeSettlement",
  "liquidate",
  "liquidateBatch",
  "placeOrder",
  "replaceOrder",
  "setSettlementPriceByGovernance",
  "settleAccount",
  "settleAccounts",
  "withdraw",
  "withdrawFees",
  "withdrawInsurance",
];

/**
 * Functions without nonReentrant, each with why a re-entering token gains nothing from it. None moves
 * collateral, cash, pools or positions. `role` is the role a re-entrant call from the token lacks.
 */
const UNGUARDED: Record<string, { reason: string; role?: RoleName }> = {
  setOperator: { reason: "writes only the caller's own operator flag; moves no value and reads no balance" },
  renounceRole: { reason: "can only remove a role from the caller itself; moves no value" },
  grantRole: { role: "DEFAULT_ADMIN_ROLE", reason: "admin only; changes roles, moves no value" },
  revokeRole: { role: "DEFAULT_ADMIN_ROLE", reason: "admin only; changes roles, moves no value" },
  pause: { role: "GUARDIAN_ROLE", reason: "guardian only; flips a flag, moves no value" },
  unpause: { role: "GUARDIAN_ROLE", reason: "guardian only; flips a flag, moves no value" },
  listSeries: { role: "MARKET_ADMIN_ROLE", reason: "market admin only; adds a series, moves no value" },
  setRiskParams: { role: "MARKET_ADMIN_ROLE", reason: "market admin only; bounded parameters, moves no value" },
  setSettlementDelays: { role: "DEFAULT_ADMIN_ROLE", reason: "admin only; bounded parameters, moves no value" },
  setInsuranceFeeShare: { role: "DEFAULT_ADMIN_ROLE", reason: "admin only; bounded parameter, moves no value" },
};

function iface() {
  return Clearinghouse__factory.createInterface();
}

interface TransferPath {
  /** The clearinghouse call whose token transfer runs the callback. */
  send(f: Fixture): Promise<ContractTransactionResponse>;
  /** Its effect when it succeeds: changes of alice's cash, insurance and fee pool (18 decimals) and of the balance (raw). */
  effect: { aliceCash: bigint; balance: bigint; insurance: bigint; fees: bigint };
}

/** Every clearinghouse path that moves tokens, each moving one token unit. */
const PATHS: Record<string, TransferPath> = {
  deposit: {
    send: (f) => f.clearinghouse.connect(f.alice).deposit(UNIT),
    effect: { aliceCash: UNIT * SCALE, balance: UNIT, insurance: 0n, fees: 0n },
  },
  depositFor: {
    send: (f) => f.clearinghouse.connect(f.bob).depositFor(f.alice.address, UNIT),
    effect: { aliceCash: UNIT * SCALE, balance: UNIT, insurance: 0n, fees: 0n },
  },
  contributeInsurance: {
    send: (f) => f.clearinghouse.connect(f.carol).contributeInsurance(UNIT),
    effect: { aliceCash: 0n, balance: UNIT, insurance: UNIT * SCALE, fees: 0n },
  },
  withdraw: {
    send: (f) => f.clearinghouse.connect(f.alice).withdraw(f.alice.address, UNIT, f.alice.address),
    effect: { aliceCash: -UNIT * SCALE, balance: -UNIT, insurance: 0n, fees: 0n },
  },
  withdrawInsurance: {
    send: (f) => f.clearinghouse.connect(f.admin).withdrawInsurance(f.admin.address, UNIT),
    effect: { aliceCash: 0n, balance: -UNIT, insurance: -UNIT * SCALE, fees: 0n },
  },
  withdrawFees: {
    send: (f) => f.clearinghouse.connect(f.admin).withdrawFees(f.admin.address, UNIT),
    effect: { aliceCash: 0n, balance: -UNIT, insurance: 0n, fees: -UNIT * SCALE },
  },
};

/** Everything a re-entrant call could have moved. */
async function snapshot(f: Fixture) {
  const ch = f.clearinghouse;
  const house = await ch.getAddress();
  const tokenAddress = await f.token.getAddress();
  const cash = async (a: string) => ch.cashOf(a);
  return {
    aliceCash: await cash(f.alice.address),
    otherCash: [
      await cash(f.bob.address),
      await cash(f.carol.address),
      await cash(f.admin.address),
      await cash(f.stranger.address),
      await cash(tokenAddress),
    ],
    balance: await f.token.balanceOf(house),
    insurance: await ch.insuranceFundX18(),
    fees: await ch.feePoolX18(),
    positions: [(await ch.positionOf(f.alice.address, 1n)).sizeQty, (await ch.positionOf(f.bob.address, 1n)).sizeQty],
    seriesCount: await ch.seriesCount(),
    imBps: (await ch.riskParams(1n)).imBps,
    paused: await ch.paused(),
    guardianRole: await ch.hasRole(f.roles.GUARDIAN_ROLE, f.guardian.address),
    tokenRole: await ch.hasRole(f.roles.GUARDIAN_ROLE, tokenAddress),
  };
}

describe("Clearinghouse reentrancy (CH-07)", function () {
  it("CH-07: classifies every mutating function of the ABI as guarded or unguarded with a reason", async function () {
    const abiNames = mutatingFunctionNames(iface());
    const classified = [...GUARDED, ...Object.keys(UNGUARDED)].sort();
    expect(new Set(classified).size, "a function is classified twice").to.equal(classified.length);
    expect(classified, "unclassified or stale entries: classify every new mutating function").to.deep.equal(abiNames);
    expect(Object.keys(CALLDATA).sort()).to.deep.equal(abiNames);
    for (const entry of Object.values(UNGUARDED)) expect(entry.reason).to.match(/moves no value/);
  });

  it("CH-07: every transfer path works, and runs the token's callback, when nothing re-enters a guarded function", async function () {
    const f = await loadFixture(callbackFixture);
    const tokenAddress = await f.token.getAddress();
    // The callback sets an operator for the token itself: proof that the token called back.
    await f.token.setCallback(await f.clearinghouse.getAddress(), CALLDATA.setOperator(f, tokenAddress));
    for (const [name, path] of Object.entries(PATHS)) {
      const before = await snapshot(f);
      await path.send(f);
      const after = await snapshot(f);
      expect(after.aliceCash - before.aliceCash, name).to.equal(path.effect.aliceCash);
      expect(after.balance - before.balance, name).to.equal(path.effect.balance);
      expect(after.insurance - before.insurance, name).to.equal(path.effect.insurance);
      expect(after.fees - before.fees, name).to.equal(path.effect.fees);
    }
    expect(await f.clearinghouse.isOperator(tokenAddress, f.stranger.address)).to.equal(true);
  });

  for (const name of GUARDED) {
    it(`CH-07: reverts every transfer path that re-enters ${name} with ReentrancyGuardReentrantCall and changes nothing`, async function () {
      const f = await loadFixture(callbackFixture);
      const ch = f.clearinghouse;
      await f.token.setCallback(await ch.getAddress(), CALLDATA[name](f, await f.token.getAddress()));
      for (const [pathName, path] of Object.entries(PATHS)) {
        const before = await snapshot(f);
        await expect(path.send(f), `${pathName} re-entering ${name}`).to.be.revertedWithCustomError(
          ch,
          "ReentrancyGuardReentrantCall",
        );
        expect(await snapshot(f), `${pathName} re-entering ${name}`).to.deep.equal(before);
      }
    });
  }

  for (const [name, { role, reason }] of Object.entries(UNGUARDED)) {
    const outcome = role === undefined ? "completes with only the outer call's effect" : `reverts without ${role}`;
    it(`CH-07: a transfer path re-entering unguarded ${name} ${outcome} (${reason})`, async function () {
      for (const [pathName, path] of Object.entries(PATHS)) {
        const f = await loadFixture(callbackFixture);
        const ch = f.clearinghouse;
        const tokenAddress = await f.token.getAddress();
        await f.token.setCallback(await ch.getAddress(), CALLDATA[name](f, tokenAddress));
        const before = await snapshot(f);
        if (role !== undefined) {
          await expect(path.send(f), `${pathName} re-entering ${name}`)
            .to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount")
            .withArgs(tokenAddress, f.roles[role]);
          expect(await snapshot(f), `${pathName} re-entering ${name}`).to.deep.equal(before);
        } else {
          // Give the re-entrant call something observable to do: the token holds a role it can renounce.
          if (name === "renounceRole") await ch.connect(f.admin).grantRole(f.roles.GUARDIAN_ROLE, tokenAddress);
          const start = await snapshot(f);
          await path.send(f);
          const expected = {
            ...start,
            aliceCash: start.aliceCash + path.effect.aliceCash,
            balance: start.balance + path.effect.balance,
            insurance: start.insurance + path.effect.insurance,
            fees: start.fees + path.effect.fees,
            tokenRole: name === "renounceRole" ? false : start.tokenRole,
          };
          expect(await snapshot(f), `${pathName} re-entering ${name}`).to.deep.equal(expected);
          if (name === "setOperator") {
            expect(await ch.isOperator(tokenAddress, f.stranger.address), pathName).to.equal(true);
          }
        }
      }
    });
  }

  it("CH-07: applyTrade, finalizeSettlement and settleAccounts move no tokens (no value pushed inside them)", async function () {
    const f = await loadFixture(callbackFixture);
    const ch = f.clearinghouse;
    const house = await ch.getAddress();
    // Any token transfer from now on reverts: the token's callback calls pause() without the role.
    await f.token.setCallback(house, CALLDATA.pause(f, await f.token.getAddress()));
    await expect(PATHS.deposit.send(f)).to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount");
    const balance = await f.token.balanceOf(house);

    await ch.connect(f.engine).applyTrade(fill(1n, f.alice.address, f.bob.address, 2n, "4"));
    expect((await ch.positionOf(f.bob.address, 1n)).sizeQty).to.equal(12n);
    await publishThroughExpiry(f.oracle, f.reporters, AIT, "4.2", f.expiry);
    await expect(ch.finalizeSettlement(1n)).to.emit(ch, "SettlementProposed");
    await time.increase(await ch.disputeWindowSec());
    await expect(ch.connect(f.stranger).settleAccounts(1n, [f.alice.address, f.bob.address]))
      .to.emit(ch, "AccountSettled")
      .withArgs(f.bob.address, 1n, 12n, parseX18("2400"));
    expect((await ch.positionOf(f.alice.address, 1n)).sizeQty).to.equal(0n);
    expect(await f.token.balanceOf(house)).to.equal(balance);
  });
});
