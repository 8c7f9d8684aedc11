import fs from "node:fs";
import path from "node:path";
import { order } from "../helpers/orders";
import { expect } from "chai";
import { artifacts, ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { encodeBytes32String, toBeHex } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Clearinghouse__factory, IndexOracle__factory, TokenpitTimelock__factory } from "../../typechain-types";
import type { IDirectFills } from "../../typechain-types/contracts/mocks/ClearinghouseHarness";
import type { IClearinghouse } from "../../typechain-types/contracts/core/Clearinghouse";
import { deployClearinghouse, deployLogicLibraries } from "../../scripts/lib/deployClearinghouse";
import { feedIdOf, parseX18 } from "../../sdk";
import { AIT, aitRisk, aitSpec, deploy6, fill, units } from "../fixtures/clearinghouse";
import { mutatingFunctionNames, publishThroughExpiry } from "../helpers/clearinghouse";

const DAY = 86_400n;
const SCALE = 10n ** 12n;
const name = (text: string) => encodeBytes32String(text);

/** deploy6 with disjoint roles: admin (default admin only), marketAdmin, guardian, engine; stranger funded. */
async function rolesFixture() {
  const f = await deploy6();
  const signers = await ethers.getSigners();
  const marketAdmin = signers[9];
  const ch = f.clearinghouse;
  const roles = {
    DEFAULT_ADMIN_ROLE: await ch.DEFAULT_ADMIN_ROLE(),
    MARKET_ADMIN_ROLE: await ch.MARKET_ADMIN_ROLE(),
    GUARDIAN_ROLE: await ch.GUARDIAN_ROLE(),
  };
  await ch.connect(f.admin).grantRole(roles.MARKET_ADMIN_ROLE, marketAdmin.address);
  await ch.connect(f.admin).revokeRole(roles.MARKET_ADMIN_ROLE, f.admin.address);
  await f.token.mint(f.stranger.address, units(1_000, 6));
  await f.token.connect(f.stranger).approve(await ch.getAddress(), ethers.MaxUint256);
  return { ...f, marketAdmin, roles };
}

/** deploy6 where alice is short 10 and bob long 10 at 4 (fees: maker 4, taker 20); carol holds 50,000 flat. */
async function tradedFixture() {
  const f = await deploy6();
  const ch = f.clearinghouse;
  await ch.connect(f.alice).deposit(units(100_000, 6));
  await ch.connect(f.bob).deposit(units(100_000, 6));
  await ch.connect(f.carol).deposit(units(50_000, 6));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.alice.address, f.bob.address, 10n, "4"));
  return f;
}

async function pausedFixture() {
  const f = await tradedFixture();
  await f.clearinghouse.connect(f.guardian).pause();
  return f;
}

type RolesFixture = Awaited<ReturnType<typeof rolesFixture>>;
type RoleName = keyof RolesFixture["roles"];
type Args = (f: RolesFixture, caller: HardhatEthersSigner) => unknown[];

/** Every role-gated function, its one role, and plausible arguments. */
const ROLE_GATED: Record<string, { role: RoleName; args: Args }> = {
  setSettlementDelays: { role: "DEFAULT_ADMIN_ROLE", args: () => [3_600n, 2n * DAY] },
  setInsuranceFeeShare: { role: "DEFAULT_ADMIN_ROLE", args: () => [1_000n] },
  withdrawInsurance: { role: "DEFAULT_ADMIN_ROLE", args: (_f, caller) => [caller.address, 1n] },
  withdrawFees: { role: "DEFAULT_ADMIN_ROLE", args: (_f, caller) => [caller.address, 1n] },
  setSettlementPriceByGovernance: { role: "DEFAULT_ADMIN_ROLE", args: () => [1n, parseX18("4")] },
  grantRole: { role: "DEFAULT_ADMIN_ROLE", args: (f, caller) => [f.roles.GUARDIAN_ROLE, caller.address] },
  revokeRole: { role: "DEFAULT_ADMIN_ROLE", args: (f) => [f.roles.GUARDIAN_ROLE, f.guardian.address] },
  listSeries: {
    role: "MARKET_ADMIN_ROLE",
    args: (f) => [aitSpec(f.expiry, { symbol: name("AIT-NEW") }), aitRisk()],
  },
  setRiskParams: { role: "MARKET_ADMIN_ROLE", args: () => [1n, aitRisk({ imBps: 3_000 })] },
  pause: { role: "GUARDIAN_ROLE", args: () => [] },
  unpause: { role: "GUARDIAN_ROLE", args: () => [] },
  challengeSettlement: { role: "GUARDIAN_ROLE", args: () => [1n] },
};

/** Every function any caller may use, with why that is safe and plausible arguments. */
const PUBLIC: Record<string, { reason: string; args: Args }> = {
  deposit: { reason: "credits the caller's own account", args: () => [1n] },
  depositFor: { reason: "only adds to the named account's cash", args: (f) => [f.alice.address, 1n] },
  withdraw: {
    reason: "the account or its operator only (CH-10)",
    args: (_f, caller) => [caller.address, 1n, caller.address],
  },
  setOperator: { reason: "writes only the caller's own operator flags", args: (f) => [f.bob.address, true] },
  contributeInsurance: { reason: "only adds to the insurance fund", args: () => [1n] },
  placeOrder: {
    reason: "trades for the caller's own account or one it operates (CH-10)",
    args: (_f, caller) => [order(1n, caller.address, true, 1n, "3.9")],
  },
  cancelOrder: { reason: "the order's owner or operator only (CH-10)", args: () => [1n] },
  replaceOrder: {
    reason: "the order's owner or operator only (CH-10)",
    args: (_f, caller) => [1n, order(1n, caller.address, true, 1n, "3.9")],
  },
  cancelAllOrders: {
    reason: "owner or operator; anyone only below maintenance or after expiry, and it only releases reserve",
    args: (_f, caller) => [caller.address, 1n],
  },
  finalizeSettlement: { reason: "after expiry, proposes the oracle TWAP only", args: () => [1n] },
  settleAccount: { reason: "closes a final series at its final price", args: (f) => [1n, f.alice.address] },
  settleAccounts: { reason: "closes a final series at its final price", args: (f) => [1n, [f.alice.address]] },
  liquidate: {
    reason: "only an account below maintenance margin, at the mark, into the caller's own margined account",
    args: (f) => [f.alice.address, 1n, 1n],
  },
  liquidateBatch: {
    reason: "liquidate for several accounts; skips those that do not qualify",
    args: (f) => [[{ account: f.alice.address, seriesId: 1n, maxQty: 1n }]],
  },
  deleverage: {
    reason: "only a bankrupt account beyond the insurance fund, against profitable opposite positions",
    args: (f) => [f.alice.address, []],
  },
  coverDeficit: {
    reason: "only pays a flat account's negative cash from the insurance fund",
    args: (f) => [f.alice.address],
  },
  renounceRole: {
    reason: "drops only the caller's own role",
    args: (f, caller) => [f.roles.GUARDIAN_ROLE, caller.address],
  },
};

/** Role holders and outsiders of the roles fixture, with the role each holds (none for accounts). */
function actors(f: RolesFixture): [string, HardhatEthersSigner, RoleName | undefined][] {
  return [
    ["admin", f.admin, "DEFAULT_ADMIN_ROLE"],
    ["marketAdmin", f.marketAdmin, "MARKET_ADMIN_ROLE"],
    ["guardian", f.guardian, "GUARDIAN_ROLE"],
    ["alice", f.alice, undefined],
    ["stranger", f.stranger, undefined],
  ];
}

function call(f: RolesFixture, caller: HardhatEthersSigner, fn: string, args: unknown[]) {
  return f.clearinghouse
    .connect(caller)
    .getFunction(fn)
    .send(...args);
}

/** All .sol files under `dir`, recursively. */
function solidityFiles(dir: string, recursive: boolean): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return recursive ? solidityFiles(full, true) : [];
    return entry.name.endsWith(".sol") ? [full] : [];
  });
}

/** Solidity source without comments (NatSpec may say "no delegatecall"). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

/** Opcodes of runtime bytecode (hex without 0x), skipping PUSH data and the trailing CBOR metadata. */
function opcodes(code: string): number[] {
  const bytes = Buffer.from(code, "hex");
  const metadataLength = bytes.readUInt16BE(bytes.length - 2) + 2;
  const end = bytes.length - metadataLength;
  const ops: number[] = [];
  for (let i = 0; i < end; i++) {
    const op = bytes[i];
    ops.push(op);
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
  }
  return ops;
}

describe("Clearinghouse governance", function () {
  describe("CH-08: role matrix", function () {
    it("CH-08: classifies every mutating function of the ABI as role-gated or public", async function () {
      const abiNames = mutatingFunctionNames(Clearinghouse__factory.createInterface());
      const classified = [...Object.keys(ROLE_GATED), ...Object.keys(PUBLIC)].sort();
      expect(new Set(classified).size, "a function is classified twice").to.equal(classified.length);
      expect(classified, "unclassified or stale entries: classify every new mutating function").to.deep.equal(abiNames);
    });

    it("CH-08: every role is administered by DEFAULT_ADMIN_ROLE and each actor holds only its own role", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      for (const role of Object.values(f.roles))
        expect(await ch.getRoleAdmin(role)).to.equal(f.roles.DEFAULT_ADMIN_ROLE);
      for (const [label, signer, held] of actors(f)) {
        for (const [roleName, role] of Object.entries(f.roles)) {
          expect(await ch.hasRole(role, signer.address), `${label} ${roleName}`).to.equal(roleName === held);
        }
      }
    });

    for (const [fn, { role, args }] of Object.entries(ROLE_GATED)) {
      it(`CH-08: #${fn} reverts for every caller without ${role}, and passes the role check for its holder`, async function () {
        const f = await loadFixture(rolesFixture);
        const ch = f.clearinghouse;
        for (const [label, caller, held] of actors(f)) {
          if (held === role) continue;
          await expect(call(f, caller, fn, args(f, caller)), `${fn} from ${label}`)
            .to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, f.roles[role]);
        }
        const holder = actors(f).find(([, , held]) => held === role);
        if (holder === undefined) throw new Error(`no holder of ${role}`);
        // The holder may still hit a domain error (e.g. no settlement to challenge), never the role check.
        await expect(
          call(f, holder[1], fn, args(f, holder[1])),
          `${fn} from ${holder[0]}`,
        ).not.to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount");
      });
    }

    it("CH-08: public functions need no role", async function () {
      const f = await loadFixture(rolesFixture);
      for (const [fn, { args }] of Object.entries(PUBLIC)) {
        await expect(call(f, f.stranger, fn, args(f, f.stranger)), fn).not.to.be.revertedWithCustomError(
          f.clearinghouse,
          "AccessControlUnauthorizedAccount",
        );
      }
      expect(await f.clearinghouse.isOperator(f.stranger.address, f.bob.address)).to.equal(true);
    });
  });

  describe("CH-08: hard bounds (even for the admins)", function () {
    const FAR = 40n * DAY;

    it("CH-08: #listSeries reverts for each spec field one past its bounds", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      // [field, value, min, max] for a listing mined at time t (the expiry bounds move with it).
      const cases: ((t: bigint) => [keyof IClearinghouse.SeriesSpecStruct, bigint, bigint, bigint])[] = [
        (t) => ["expiry", t, t + 1n, t + 400n * DAY],
        (t) => ["expiry", t + 400n * DAY + 1n, t + 1n, t + 400n * DAY],
        () => ["averagingWindowSec", 1_799n, 1_800n, 35n * DAY],
        () => ["averagingWindowSec", 35n * DAY + 1n, 1_800n, 35n * DAY],
        () => ["methodologyVersion", 0n, 1n, 65_535n],
        () => ["minSettlementRounds", 0n, 1n, 4_096n],
        () => ["minSettlementRounds", 4_097n, 1n, 4_096n],
        () => ["contractMultiplier", 0n, 1n, 10n ** 9n],
        () => ["contractMultiplier", 10n ** 9n + 1n, 1n, 10n ** 9n],
        () => ["tickSizeX18", 0n, 1n, 10n ** 22n],
        () => ["tickSizeX18", 10n ** 22n + 1n, 1n, 10n ** 22n],
        () => ["minQty", 0n, 1n, 10n ** 9n],
        () => ["minQty", 10n ** 9n + 1n, 1n, 10n ** 9n],
      ];
      for (const at of cases) {
        const t = BigInt(await time.latest()) + 10n;
        const [field, value, min, max] = at(t);
        const spec = aitSpec(t + FAR, { symbol: name(`B-${field}`), [field]: value });
        await time.setNextBlockTimestamp(t);
        await expect(ch.connect(f.marketAdmin).listSeries(spec, aitRisk()), `${field} = ${value}`)
          .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
          .withArgs(name(field), value, min, max);
      }
      expect(await ch.seriesCount()).to.equal(1n);
    });

    it("CH-08: #listSeries accepts every spec field at its minimum and at its maximum", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      const t = BigInt(await time.latest()) + 100n;
      const minimum = aitSpec(t + 1n, {
        symbol: name("MIN"),
        averagingWindowSec: 1_800n,
        methodologyVersion: 1,
        minSettlementRounds: 1,
        contractMultiplier: 1n,
        tickSizeX18: 1n,
        minQty: 1n,
      });
      await time.setNextBlockTimestamp(t);
      await expect(ch.connect(f.marketAdmin).listSeries(minimum, aitRisk()))
        .to.emit(ch, "SeriesListed")
        .withArgs(2n, name("MIN"), anyValue, anyValue);
      const maximum = aitSpec(t + 10n + 400n * DAY, {
        symbol: name("MAX"),
        averagingWindowSec: 35n * DAY,
        methodologyVersion: 65_535,
        minSettlementRounds: 4_096,
        contractMultiplier: 10n ** 9n,
        tickSizeX18: 10n ** 22n,
        minQty: 10n ** 9n,
      });
      const bigRisk = aitRisk({ positionLimitQty: 10n ** 12n, openInterestCapQty: 10n ** 15n });
      await time.setNextBlockTimestamp(t + 10n);
      await expect(ch.connect(f.marketAdmin).listSeries(maximum, bigRisk)).to.emit(ch, "SeriesListed");
      const stored = await ch.seriesSpec(3n);
      expect(stored.expiry).to.equal(t + 10n + 400n * DAY);
      expect(stored.methodologyVersion).to.equal(65_535n);
      expect(stored.minSettlementRounds).to.equal(4_096n);
      expect(stored.tickSizeX18).to.equal(10n ** 22n);
      expect(stored.minQty).to.equal(10n ** 9n);
      expect((await ch.seriesSpec(2n)).expiry).to.equal(t + 1n);
    });

    // [field, value, min, max] for risk parameters against aitRisk() (mm 1,250, taker 5) and minQty 1.
    const riskCases: [keyof IClearinghouse.RiskParamsStruct, bigint, bigint, bigint][] = [
      ["mmBps", 49n, 50n, 5_000n],
      ["mmBps", 5_001n, 50n, 5_000n],
      ["imBps", 1_250n, 1_251n, 10_000n],
      ["imBps", 10_001n, 1_251n, 10_000n],
      ["orderBandBps", 9n, 10n, 5_000n],
      ["orderBandBps", 5_001n, 10n, 5_000n],
      ["liquidationPenaltyBps", 1_251n, 0n, 1_250n],
      ["takerFeeBps", 101n, 0n, 100n],
      ["makerFeeBps", -6n, -5n, 100n],
      ["makerFeeBps", 101n, -5n, 100n],
      ["positionLimitQty", 0n, 1n, 10n ** 12n],
      ["positionLimitQty", 10n ** 12n + 1n, 1n, 10n ** 12n],
      ["openInterestCapQty", 0n, 1n, 10n ** 15n],
      ["openInterestCapQty", 10n ** 15n + 1n, 1n, 10n ** 15n],
    ];

    for (const [field, value, min, max] of riskCases) {
      it(`CH-08: #setRiskParams and #listSeries revert for ${field} = ${value} (bounds ${min}..${max})`, async function () {
        const f = await loadFixture(rolesFixture);
        const ch = f.clearinghouse;
        const risk = aitRisk({ [field]: value });
        await expect(ch.connect(f.marketAdmin).setRiskParams(1n, risk))
          .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
          .withArgs(name(field), value, min, max);
        await expect(ch.connect(f.marketAdmin).listSeries(aitSpec(f.expiry, { symbol: name("R") }), risk))
          .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
          .withArgs(name(field), value, min, max);
        expect(await ch.riskParams(1n)).to.deep.equal(Object.values(aitRisk()).map(BigInt));
      });
    }

    it("CH-08: quantity limits are bounded below by the series' minQty", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      const spec = aitSpec(f.expiry, { symbol: name("Q10"), minQty: 10n });
      await expect(ch.connect(f.marketAdmin).listSeries(spec, aitRisk({ positionLimitQty: 9n })))
        .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
        .withArgs(name("positionLimitQty"), 9n, 10n, 10n ** 12n);
      await expect(ch.connect(f.marketAdmin).listSeries(spec, aitRisk({ openInterestCapQty: 9n })))
        .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
        .withArgs(name("openInterestCapQty"), 9n, 10n, 10n ** 15n);
      await ch.connect(f.marketAdmin).listSeries(spec, aitRisk({ positionLimitQty: 10n, openInterestCapQty: 10n }));
      await expect(ch.connect(f.marketAdmin).setRiskParams(2n, aitRisk({ positionLimitQty: 9n })))
        .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
        .withArgs(name("positionLimitQty"), 9n, 10n, 10n ** 12n);
    });

    it("CH-08: #setRiskParams accepts every risk field at its minimum and at its maximum", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      const lowest = {
        imBps: 51,
        mmBps: 50,
        orderBandBps: 10,
        liquidationPenaltyBps: 0,
        makerFeeBps: 0,
        takerFeeBps: 0,
        positionLimitQty: 1n,
        openInterestCapQty: 1n,
      };
      const highest = {
        imBps: 10_000,
        mmBps: 5_000,
        orderBandBps: 5_000,
        liquidationPenaltyBps: 5_000,
        makerFeeBps: 100,
        takerFeeBps: 100,
        positionLimitQty: 10n ** 12n,
        openInterestCapQty: 10n ** 15n,
      };
      const deepestRebate = { ...highest, makerFeeBps: -100 };
      for (const risk of [lowest, highest, deepestRebate]) {
        await expect(ch.connect(f.marketAdmin).setRiskParams(1n, risk))
          .to.emit(ch, "RiskParamsSet")
          .withArgs(1n, Object.values(risk));
        expect(await ch.riskParams(1n)).to.deep.equal(Object.values(risk).map(BigInt));
      }
    });

    it("CH-08: #setSettlementDelays and #setInsuranceFeeShare revert one past their bounds and accept them", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      const admin = ch.connect(f.admin);
      const dispute = [600n, 3n * DAY];
      const grace = [DAY, 30n * DAY];
      for (const [d, g, field, value, min, max] of [
        [599n, DAY, "disputeWindowSec", 599n, ...dispute],
        [3n * DAY + 1n, DAY, "disputeWindowSec", 3n * DAY + 1n, ...dispute],
        [600n, DAY - 1n, "governanceGraceSec", DAY - 1n, ...grace],
        [600n, 30n * DAY + 1n, "governanceGraceSec", 30n * DAY + 1n, ...grace],
      ] as [bigint, bigint, string, bigint, bigint, bigint][]) {
        await expect(admin.setSettlementDelays(d, g))
          .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
          .withArgs(name(field), value, min, max);
      }
      await expect(admin.setInsuranceFeeShare(10_001n))
        .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
        .withArgs(name("insuranceFeeShareBps"), 10_001n, 0n, 10_000n);
      expect(await ch.disputeWindowSec()).to.equal(7_200n);
      expect(await ch.governanceGraceSec()).to.equal(3n * DAY);

      await expect(admin.setSettlementDelays(600n, DAY)).to.emit(ch, "SettlementDelaysSet").withArgs(600n, DAY);
      expect(await ch.disputeWindowSec()).to.equal(600n);
      await expect(admin.setSettlementDelays(3n * DAY, 30n * DAY))
        .to.emit(ch, "SettlementDelaysSet")
        .withArgs(3n * DAY, 30n * DAY);
      expect(await ch.governanceGraceSec()).to.equal(30n * DAY);
      for (const share of [10_000n, 0n]) {
        await expect(admin.setInsuranceFeeShare(share)).to.emit(ch, "InsuranceFeeShareSet").withArgs(share);
        expect(await ch.insuranceFeeShareBps()).to.equal(share);
      }
    });

    it("reverts with SeriesSymbolInvalid for a duplicate or zero symbol and SeriesFeedUnknown for an unknown feed", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      const listed = (await ch.seriesSpec(1n)).symbol;
      await expect(ch.connect(f.marketAdmin).listSeries(aitSpec(f.expiry), aitRisk()))
        .to.be.revertedWithCustomError(ch, "SeriesSymbolInvalid")
        .withArgs(listed);
      await expect(ch.connect(f.marketAdmin).listSeries(aitSpec(f.expiry, { symbol: ethers.ZeroHash }), aitRisk()))
        .to.be.revertedWithCustomError(ch, "SeriesSymbolInvalid")
        .withArgs(ethers.ZeroHash);
      const unknownFeed = feedIdOf("NOPE");
      await expect(
        ch.connect(f.marketAdmin).listSeries(aitSpec(f.expiry, { symbol: name("X"), feedId: unknownFeed }), aitRisk()),
      )
        .to.be.revertedWithCustomError(ch, "SeriesFeedUnknown")
        .withArgs(unknownFeed);
      expect(await ch.seriesCount()).to.equal(1n);
      expect(await ch.seriesIdOf(listed)).to.equal(1n);
    });

    it("reverts with UnknownSeries for series 0 and an unlisted id on every series entry point", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      for (const id of [0n, 2n]) {
        const unknown = async (p: Promise<unknown>, label: string) =>
          expect(p, `${label}(${id})`).to.be.revertedWithCustomError(ch, "UnknownSeries").withArgs(id);
        await unknown(ch.connect(f.marketAdmin).setRiskParams(id, aitRisk()), "setRiskParams");
        await unknown(ch.connect(f.engine).applyTrade(fill(id, f.alice.address, f.bob.address, 1n, "4")), "applyTrade");
        await unknown(ch.finalizeSettlement(id), "finalizeSettlement");
        await unknown(ch.connect(f.guardian).challengeSettlement(id), "challengeSettlement");
        await unknown(ch.connect(f.admin).setSettlementPriceByGovernance(id, parseX18("4")), "setSettlementPrice");
        await unknown(ch.settleAccount(id, f.alice.address), "settleAccount");
        await unknown(ch.settleAccounts(id, [f.alice.address]), "settleAccounts");
        await unknown(ch.markPrice(id), "markPrice");
        await unknown(ch.seriesSpec(id), "seriesSpec");
        await unknown(ch.riskParams(id), "riskParams");
        await unknown(ch.marketState(id), "marketState");
        await unknown(ch.settlementOf(id), "settlementOf");
      }
    });
  });

  describe("CH-08: timelock and deployer", function () {
    it("CH-08: a timelocked setRiskParams waits for the delay, then applies and emits RiskParamsSet", async function () {
      const f = await loadFixture(rolesFixture);
      const ch = f.clearinghouse;
      const [proposer] = [f.carol];
      const delay = 2n * DAY;
      const timelock = await new TokenpitTimelock__factory(f.admin).deploy(
        delay,
        [proposer.address],
        [proposer.address],
        ethers.ZeroAddress,
      );
      const timelockAddress = await timelock.getAddress();
      await ch.connect(f.admin).grantRole(f.roles.MARKET_ADMIN_ROLE, timelockAddress);
      await ch.connect(f.admin).revokeRole(f.roles.MARKET_ADMIN_ROLE, f.marketAdmin.address);

      const risk = aitRisk({ imBps: 3_000, mmBps: 1_500 });
      const data = ch.interface.encodeFunctionData("setRiskParams", [1n, risk]);
      const target = await ch.getAddress();
      const salt = ethers.id("raise-margins");
      const id = await timelock.hashOperation(target, 0n, data, ethers.ZeroHash, salt);
      // The proposer itself cannot act directly, and cannot schedule with less than the delay.
      await expect(ch.connect(proposer).setRiskParams(1n, risk))
        .to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount")
        .withArgs(proposer.address, f.roles.MARKET_ADMIN_ROLE);
      await expect(timelock.connect(proposer).schedule(target, 0n, data, ethers.ZeroHash, salt, delay - 1n))
        .to.be.revertedWithCustomError(timelock, "TimelockInsufficientDelay")
        .withArgs(delay - 1n, delay);
      await timelock.connect(proposer).schedule(target, 0n, data, ethers.ZeroHash, salt, delay);

      const readyBitmap = toBeHex(1n << 2n, 32); // OperationState.Ready
      await expect(timelock.connect(proposer).execute(target, 0n, data, ethers.ZeroHash, salt))
        .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState")
        .withArgs(id, readyBitmap);
      await time.increase(delay - 10n);
      await expect(timelock.connect(proposer).execute(target, 0n, data, ethers.ZeroHash, salt))
        .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState")
        .withArgs(id, readyBitmap);
      expect((await ch.riskParams(1n)).imBps).to.equal(2_500n);

      await time.increase(10n);
      await expect(timelock.connect(proposer).execute(target, 0n, data, ethers.ZeroHash, salt))
        .to.emit(ch, "RiskParamsSet")
        .withArgs(1n, Object.values(risk));
      expect(await ch.riskParams(1n)).to.deep.equal(Object.values(risk).map(BigInt));
      expect(await timelock.isOperationDone(id)).to.equal(true);
    });

    it("CH-08: a clearinghouse deployed with a timelock as admin leaves the deployer no role", async function () {
      const f = await loadFixture(rolesFixture);
      const [deployer] = await ethers.getSigners();
      const timelock = await new TokenpitTimelock__factory(deployer).deploy(
        DAY,
        [f.admin.address],
        [f.admin.address],
        ethers.ZeroAddress,
      );
      const timelockAddress = await timelock.getAddress();
      const { clearinghouse: ch } = await deployClearinghouse(
        deployer,
        await f.token.getAddress(),
        await f.oracle.getAddress(),
        timelockAddress,
      );
      for (const role of Object.values(f.roles)) {
        expect(await ch.hasRole(role, deployer.address)).to.equal(false);
        expect(await ch.hasRole(role, f.admin.address)).to.equal(false);
      }
      expect(await ch.hasRole(f.roles.DEFAULT_ADMIN_ROLE, timelockAddress)).to.equal(true);
      await expect(ch.connect(deployer).grantRole(f.roles.GUARDIAN_ROLE, deployer.address))
        .to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount")
        .withArgs(deployer.address, f.roles.DEFAULT_ADMIN_ROLE);
      // The timelock's own roles: the deployer can neither propose nor administer it.
      expect(await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
      expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), deployer.address)).to.equal(false);
    });
  });

  describe("CH-09: pause", function () {
    it("CH-09: only the guardian pauses, and a pause twice reverts", async function () {
      const f = await loadFixture(tradedFixture);
      const ch = f.clearinghouse;
      await expect(ch.connect(f.guardian).pause()).to.emit(ch, "Paused").withArgs(f.guardian.address);
      expect(await ch.paused()).to.equal(true);
      await expect(ch.connect(f.guardian).pause()).to.be.revertedWithCustomError(ch, "EnforcedPause");
    });

    it("CH-09: refuses every fill that raises either side's risk while paused", async function () {
      const f = await loadFixture(pausedFixture);
      const ch = f.clearinghouse;
      const [alice, bob, carol] = [f.alice.address, f.bob.address, f.carol.address];
      const cases: [string, IDirectFills.FillStruct][] = [
        ["both sides grow", fill(1n, alice, bob, 1n, "4")],
        ["only the maker opens", fill(1n, carol, bob, 1n, "4", false)],
        ["only the taker opens", fill(1n, alice, carol, 1n, "4", false)],
        ["both sides flip", fill(1n, alice, bob, 15n, "4", false)],
      ];
      for (const [label, riskyFill] of cases) {
        await expect(ch.connect(f.engine).applyTrade(riskyFill), label).to.be.revertedWithCustomError(
          ch,
          "EnforcedPause",
        );
      }
      expect((await ch.positionOf(alice, 1n)).sizeQty).to.equal(-10n);
      expect((await ch.positionOf(bob, 1n)).sizeQty).to.equal(10n);
      expect((await ch.positionOf(carol, 1n)).sizeQty).to.equal(0n);
      expect((await ch.marketState(1n)).openInterestQty).to.equal(10n);
    });

    it("CH-09: a fill that reduces both sides succeeds while paused", async function () {
      const f = await loadFixture(pausedFixture);
      const ch = f.clearinghouse;
      await expect(ch.connect(f.engine).applyTrade(fill(1n, f.alice.address, f.bob.address, 4n, "4", false)))
        .to.emit(ch, "TradeSettled")
        .withArgs(1n, f.alice.address, f.bob.address, false, 4n, parseX18("4"), parseX18("1.6"), parseX18("8"));
      expect((await ch.positionOf(f.alice.address, 1n)).sizeQty).to.equal(-6n);
      expect((await ch.positionOf(f.bob.address, 1n)).sizeQty).to.equal(6n);
      expect((await ch.marketState(1n)).openInterestQty).to.equal(6n);
    });

    it("CH-09: a flat account withdraws everything, and deposits and free withdrawals work while paused", async function () {
      const f = await loadFixture(pausedFixture);
      const ch = f.clearinghouse;
      const carolWallet = await f.token.balanceOf(f.carol.address);
      await ch.connect(f.carol).withdraw(f.carol.address, units(50_000, 6), f.carol.address);
      expect(await ch.cashOf(f.carol.address)).to.equal(0n);
      expect(await f.token.balanceOf(f.carol.address)).to.equal(carolWallet + units(50_000, 6));

      await expect(ch.connect(f.carol).deposit(units(10, 6))).to.emit(ch, "Deposited");
      await expect(ch.connect(f.carol).contributeInsurance(units(10, 6))).to.emit(ch, "InsuranceContributed");
      // Alice holds a position: she can still take out collateral she does not need for margin.
      await expect(ch.connect(f.alice).withdraw(f.alice.address, units(50_000, 6), f.alice.address))
        .to.emit(ch, "Withdrawn")
        .withArgs(f.alice.address, f.alice.address, units(50_000, 6));
      expect(await ch.cashOf(f.alice.address)).to.equal(units(50_000, 18) - parseX18("4"));
    });

    it("CH-09: finalizeSettlement and settleAccounts run while paused, and everyone then withdraws everything", async function () {
      const f = await loadFixture(pausedFixture);
      const ch = f.clearinghouse;
      const house = await ch.getAddress();
      const rounds = await publishThroughExpiry(f.oracle, f.reporters, AIT, "4.2", f.expiry);
      expect(rounds).to.be.greaterThan(60);
      expect(await ch.paused()).to.equal(true);

      const tx = await ch.connect(f.stranger).finalizeSettlement(1n);
      const block = await ethers.provider.getBlock((await tx.wait())!.blockNumber);
      const finalAt = BigInt(block!.timestamp) + (await ch.disputeWindowSec());
      await expect(tx)
        .to.emit(ch, "SettlementProposed")
        .withArgs(1n, parseX18("4.2"), (n: bigint) => n >= 3n, finalAt);
      await time.increaseTo(finalAt);

      const accounts = [f.alice.address, f.bob.address, f.carol.address];
      expect(await ch.connect(f.stranger).settleAccounts.staticCall(1n, accounts)).to.equal(2n);
      await expect(ch.connect(f.stranger).settleAccounts(1n, accounts))
        .to.emit(ch, "AccountSettled")
        .withArgs(f.alice.address, 1n, -10n, -parseX18("2000"))
        .and.to.emit(ch, "AccountSettled")
        .withArgs(f.bob.address, 1n, 10n, parseX18("2000"));
      expect((await ch.marketState(1n)).openInterestQty).to.equal(0n);
      expect(await ch.paused()).to.equal(true);

      for (const [account, cashX18] of [
        [f.alice, parseX18("97996")],
        [f.bob, parseX18("101980")],
        [f.carol, parseX18("50000")],
      ] as const) {
        expect(await ch.cashOf(account.address)).to.equal(cashX18);
        await ch.connect(account).withdraw(account.address, cashX18 / SCALE, account.address);
        expect(await ch.cashOf(account.address)).to.equal(0n);
      }
      // What is left is the fee pool: 4 + 20.
      expect(await ch.feePoolX18()).to.equal(parseX18("24"));
      expect(await f.token.balanceOf(house)).to.equal(units(24, 6));
    });

    it("CH-09: unpause restores risk-increasing fills", async function () {
      const f = await loadFixture(pausedFixture);
      const ch = f.clearinghouse;
      const risky = fill(1n, f.alice.address, f.bob.address, 1n, "4");
      await expect(ch.connect(f.engine).applyTrade(risky)).to.be.revertedWithCustomError(ch, "EnforcedPause");
      await expect(ch.connect(f.guardian).unpause()).to.emit(ch, "Unpaused").withArgs(f.guardian.address);
      await expect(ch.connect(f.engine).applyTrade(risky)).to.emit(ch, "TradeSettled");
      expect((await ch.positionOf(f.bob.address, 1n)).sizeQty).to.equal(11n);
      await expect(ch.connect(f.guardian).unpause()).to.be.revertedWithCustomError(ch, "ExpectedPause");
    });
  });

  describe("CH-10: authorization", function () {
    it("CH-10: reverts when anyone but the owner withdraws for an account", async function () {
      const f = await loadFixture(tradedFixture);
      const ch = f.clearinghouse;
      for (const caller of [f.bob, f.stranger, f.admin, f.engine, f.guardian]) {
        await expect(ch.connect(caller).withdraw(f.alice.address, 1n, caller.address))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(f.alice.address, caller.address);
      }
      expect(await ch.cashOf(f.alice.address)).to.equal(units(100_000, 18) - parseX18("4"));
    });

    it("CH-10: an approved operator withdraws to any address until revoked, for that owner only", async function () {
      const f = await loadFixture(tradedFixture);
      const ch = f.clearinghouse;
      await expect(ch.connect(f.alice).setOperator(f.bob.address, true))
        .to.emit(ch, "OperatorSet")
        .withArgs(f.alice.address, f.bob.address, true);
      expect(await ch.isOperator(f.alice.address, f.bob.address)).to.equal(true);
      expect(await ch.isOperator(f.bob.address, f.alice.address)).to.equal(false);

      const strangerWallet = await f.token.balanceOf(f.stranger.address);
      await expect(ch.connect(f.bob).withdraw(f.alice.address, units(1_000, 6), f.stranger.address))
        .to.emit(ch, "Withdrawn")
        .withArgs(f.alice.address, f.stranger.address, units(1_000, 6));
      expect(await f.token.balanceOf(f.stranger.address)).to.equal(strangerWallet + units(1_000, 6));
      expect(await ch.cashOf(f.alice.address)).to.equal(units(99_000, 18) - parseX18("4"));
      await expect(ch.connect(f.bob).withdraw(f.carol.address, 1n, f.bob.address))
        .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
        .withArgs(f.carol.address, f.bob.address);

      await expect(ch.connect(f.alice).setOperator(f.bob.address, false))
        .to.emit(ch, "OperatorSet")
        .withArgs(f.alice.address, f.bob.address, false);
      await expect(ch.connect(f.bob).withdraw(f.alice.address, 1n, f.bob.address))
        .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
        .withArgs(f.alice.address, f.bob.address);
    });

    it("CH-10: reverts with ZeroAddress when setting the zero address as operator", async function () {
      const f = await loadFixture(tradedFixture);
      await expect(
        f.clearinghouse.connect(f.alice).setOperator(ethers.ZeroAddress, true),
      ).to.be.revertedWithCustomError(f.clearinghouse, "ZeroAddress");
    });

    it("CH-10: no role trades for an account: orders need its owner or operator", async function () {
      const f = await loadFixture(tradedFixture);
      const ch = f.clearinghouse;
      const closing = order(1n, f.alice.address, true, 10n, "4", { kind: "ImmediateOrCancel" });
      for (const caller of [f.bob, f.admin, f.guardian, f.stranger]) {
        await expect(ch.connect(caller).placeOrder(closing))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(f.alice.address, caller.address);
      }
      const resting = await ch.connect(f.alice).placeOrder.staticCall(order(1n, f.alice.address, true, 1n, "3.9"));
      await ch.connect(f.alice).placeOrder(order(1n, f.alice.address, true, 1n, "3.9"));
      for (const caller of [f.bob, f.admin, f.guardian, f.stranger]) {
        await expect(ch.connect(caller).cancelOrder(resting.orderId))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(f.alice.address, caller.address);
        await expect(ch.connect(caller).replaceOrder(resting.orderId, order(1n, f.alice.address, true, 1n, "3.8")))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(f.alice.address, caller.address);
      }
      // The production clearinghouse has no direct-fill entry point and no role that could add one.
      const production = Clearinghouse__factory.createInterface();
      expect(
        production.fragments.some(
          (fragment) =>
            fragment.type === "function" &&
            fragment.format() === "applyTrade((uint32,address,address,bool,uint64,uint256))",
        ),
      ).to.equal(false);
      expect(production.fragments.some((fragment) => fragment.format("full").includes("ENGINE"))).to.equal(false);
      // An operator may trade for the account.
      await ch.connect(f.alice).setOperator(f.bob.address, true);
      await ch.connect(f.bob).cancelOrder(resting.orderId);
      expect((await ch.exposureOf(f.alice.address, 1n)).openOrders).to.equal(0n);
    });

    it("CH-10: a deposit by someone else only increases the account's cash and equity", async function () {
      const f = await loadFixture(tradedFixture);
      const ch = f.clearinghouse;
      const before = await ch.accountHealth(f.alice.address);
      const position = await ch.positionOf(f.alice.address, 1n);
      const wallet = await f.token.balanceOf(f.alice.address);
      await f.token.mint(f.stranger.address, units(5, 6));
      await f.token.connect(f.stranger).approve(await ch.getAddress(), ethers.MaxUint256);
      await ch.connect(f.stranger).depositFor(f.alice.address, units(5, 6));
      const after = await ch.accountHealth(f.alice.address);
      expect(after.cashX18 - before.cashX18).to.equal(units(5, 18));
      expect(after.equityX18 - before.equityX18).to.equal(units(5, 18));
      expect(await ch.positionOf(f.alice.address, 1n)).to.deep.equal(position);
      expect(await f.token.balanceOf(f.alice.address)).to.equal(wallet);
    });

    it("CH-10: a deposit by someone else first settles a final series (as anyone may), so only equity rises by the deposit", async function () {
      // Documents an exception to "only the owner or an operator lowers cash": settlement of a final
      // series is open to anyone (settleAccount, settleAccounts, and lazily any depositFor), and it
      // moves a loss from unrealized PnL into cash. Equity is unchanged by the settlement itself.
      const f = await loadFixture(tradedFixture);
      const ch = f.clearinghouse;
      await publishThroughExpiry(f.oracle, f.reporters, AIT, "4.2", f.expiry);
      await ch.finalizeSettlement(1n);
      await time.increase(await ch.disputeWindowSec());
      const before = await ch.accountHealth(f.alice.address);
      expect(before.unrealizedPnlX18).to.equal(-parseX18("2000"));
      await f.token.mint(f.stranger.address, units(5, 6));
      await f.token.connect(f.stranger).approve(await ch.getAddress(), ethers.MaxUint256);
      await expect(ch.connect(f.stranger).depositFor(f.alice.address, units(5, 6)))
        .to.emit(ch, "AccountSettled")
        .withArgs(f.alice.address, 1n, -10n, -parseX18("2000"));
      const after = await ch.accountHealth(f.alice.address);
      expect(after.cashX18 - before.cashX18).to.equal(units(5, 18) - parseX18("2000"));
      expect(after.equityX18 - before.equityX18).to.equal(units(5, 18));
      expect((await ch.positionOf(f.alice.address, 1n)).sizeQty).to.equal(0n);
    });
  });

  describe("CH-11: no upgradeability", function () {
    const root = path.join(__dirname, "..", "..", "contracts");
    const files = [
      ...solidityFiles(path.join(root, "core"), true),
      ...solidityFiles(path.join(root, "oracle"), false),
      ...solidityFiles(path.join(root, "libraries"), false),
    ];

    it("CH-11: core, oracle and library sources have no delegatecall, initializer, upgradeTo or selfdestruct", async function () {
      expect(files.map((file) => path.basename(file))).to.include.members([
        "Clearinghouse.sol",
        "TradeLogic.sol",
        "SettlementLogic.sol",
        "MarginLogic.sol",
        "IndexOracle.sol",
      ]);
      for (const file of files) {
        const code = stripComments(fs.readFileSync(file, "utf8"));
        for (const banned of [
          /\bdelegatecall\b/i,
          /\bcallcode\b/i,
          /\binitiali[sz]e\b/i,
          /\binitializer\b/i,
          /\bInitializable\b/,
          /upgradeTo/i,
          /Upgradeable/,
          /\bProxy\b/,
          /\bselfdestruct\b/i,
        ]) {
          expect(code, `${path.relative(root, file)} matches ${banned}`).not.to.match(banned);
        }
      }
    });

    it("CH-11: the Clearinghouse and IndexOracle ABIs have no initializer or upgrade function", async function () {
      for (const iface of [Clearinghouse__factory.createInterface(), IndexOracle__factory.createInterface()]) {
        const names: string[] = [];
        iface.forEachFunction((fragment) => names.push(fragment.name));
        expect(names.length).to.be.greaterThan(10);
        for (const fn of names) expect(fn).not.to.match(/initiali[sz]e|upgradeTo|proxiableUUID|implementation/i);
      }
    });

    it("CH-11: the linked library addresses are constants in the runtime bytecode, the only DELEGATECALL targets", async function () {
      const f = await loadFixture(rolesFixture);
      const [deployer] = await ethers.getSigners();
      const token = await f.token.getAddress();
      const oracle = await f.oracle.getAddress();
      const first = await deployClearinghouse(deployer, token, oracle, f.admin.address);
      const code = (await ethers.provider.getCode(await first.clearinghouse.getAddress())).slice(2).toLowerCase();
      const libs = first.libraries;
      for (const address of Object.values(libs)) expect(code).to.include(address.slice(2).toLowerCase());

      // Each link reference of the artifact holds its library's address.
      const artifact = await artifacts.readArtifact("Clearinghouse");
      const linked: Record<string, string> = {
        MarginLogic: libs.marginLogic,
        SettlementLogic: libs.settlementLogic,
        OrderBookLogic: libs.orderBookLogic,
        OrderCancelLogic: libs.orderCancelLogic,
        LiquidationLogic: libs.liquidationLogic,
        DeficitLogic: libs.deficitLogic,
      };
      const linkedBytes = new Set<number>();
      let references = 0;
      for (const byLibrary of Object.values(artifact.deployedLinkReferences)) {
        for (const [library, offsets] of Object.entries(byLibrary)) {
          for (const { start, length } of offsets) {
            references += 1;
            expect(code.slice(start * 2, (start + length) * 2), library).to.equal(
              linked[library].slice(2).toLowerCase(),
            );
            for (let i = start; i < start + length; i++) linkedBytes.add(i);
          }
        }
      }
      expect(references).to.be.greaterThanOrEqual(3);
      expect(Object.keys(Object.assign({}, ...Object.values(artifact.deployedLinkReferences))).sort()).to.deep.equal(
        Object.keys(linked).sort(),
      );

      // A second deployment over other library instances differs only at those bytes: the targets are
      // fixed at deployment and no storage slot or argument chooses them.
      const otherLibraries = await deployLogicLibraries(deployer);
      const second = await deployClearinghouse(deployer, token, oracle, f.admin.address, otherLibraries);
      const otherCode = (await ethers.provider.getCode(await second.clearinghouse.getAddress())).slice(2).toLowerCase();
      expect(otherCode.length).to.equal(code.length);
      const differing: number[] = [];
      for (let i = 0; i < code.length / 2; i++) {
        if (code.slice(i * 2, i * 2 + 2) !== otherCode.slice(i * 2, i * 2 + 2)) differing.push(i);
      }
      expect(differing.length).to.be.greaterThan(0);
      for (const i of differing)
        expect(linkedBytes.has(i), `byte ${i} differs outside a link reference`).to.equal(true);

      // OrderBookLogic calls MarginLogic at its linked address too, and links nothing else; no runtime code can
      // self-destruct or CALLCODE.
      const bookCode = (await ethers.provider.getCode(libs.orderBookLogic)).slice(2).toLowerCase();
      expect(bookCode).to.include(libs.marginLogic.slice(2).toLowerCase());
      const bookArtifact = await artifacts.readArtifact("OrderBookLogic");
      expect(Object.values(bookArtifact.deployedLinkReferences).flatMap((refs) => Object.keys(refs))).to.deep.equal([
        "MarginLogic",
      ]);
      for (const address of [await first.clearinghouse.getAddress(), ...Object.values(libs)]) {
        const ops = opcodes((await ethers.provider.getCode(address)).slice(2));
        expect(ops.length).to.be.greaterThan(100);
        expect(ops, address).not.to.include(0xff); // SELFDESTRUCT
        expect(ops, address).not.to.include(0xf2); // CALLCODE
      }
    });
  });
});
