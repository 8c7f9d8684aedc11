import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  FalseReturnToken__factory,
  FeeOnTransferToken__factory,
  MockERC20__factory,
  NoReturnToken__factory,
  RebasingToken__factory,
} from "../../typechain-types";
import type { Clearinghouse } from "../../typechain-types";
import { deployClearinghouse, deployLogicLibraries } from "../../scripts/lib/deployClearinghouse";
import { deploy18, deploy6, fill, units } from "../fixtures/clearinghouse";
import type { ClearinghouseFixture } from "../fixtures/clearinghouse";
import { deployOracleFixture } from "../fixtures/oracle";

const MAX_AMOUNT_RAW = 2n ** 128n - 1n;

/** 10^(18 - decimals): the factor from raw token units to 18 decimals. */
function scaleOf(decimals: number): bigint {
  return 10n ** BigInt(18 - decimals);
}

/** Sum of the cash of `accounts`, 18 decimals. */
async function sumCash(clearinghouse: Clearinghouse, accounts: string[]): Promise<bigint> {
  let total = 0n;
  for (const account of accounts) total += await clearinghouse.cashOf(account);
  return total;
}

/** Four clearinghouses over the four hostile token mocks, sharing one oracle and one set of libraries. */
async function hostileFixture() {
  const { oracle, deployer, admin } = await deployOracleFixture();
  const [, , , stranger, , , alice, bob, carol] = await ethers.getSigners();
  const oracleAddress = await oracle.getAddress();
  const libraries = await deployLogicLibraries(deployer);
  const over = async (token: { getAddress(): Promise<string> }) =>
    (await deployClearinghouse(deployer, await token.getAddress(), oracleAddress, admin.address, libraries))
      .clearinghouse;

  const feeToken = await new FeeOnTransferToken__factory(deployer).deploy();
  const rebasingToken = await new RebasingToken__factory(deployer).deploy();
  const noReturnToken = await new NoReturnToken__factory(deployer).deploy();
  const falseReturnToken = await new FalseReturnToken__factory(deployer).deploy();
  const feeHouse = await over(feeToken);
  const rebasingHouse = await over(rebasingToken);
  const noReturnHouse = await over(noReturnToken);
  const falseReturnHouse = await over(falseReturnToken);

  for (const account of [alice, bob]) {
    await feeToken.mint(account.address, units(1_000_000, 6));
    await feeToken.connect(account).approve(await feeHouse.getAddress(), ethers.MaxUint256);
    await rebasingToken.mint(account.address, units(1_000_000, 18));
    await rebasingToken.connect(account).approve(await rebasingHouse.getAddress(), ethers.MaxUint256);
    await noReturnToken.mint(account.address, units(1_000_000, 6));
    await noReturnToken.connect(account).approve(await noReturnHouse.getAddress(), ethers.MaxUint256);
    await falseReturnToken.mint(account.address, units(1_000_000, 6));
    await falseReturnToken.connect(account).approve(await falseReturnHouse.getAddress(), ethers.MaxUint256);
  }
  return {
    admin,
    alice,
    bob,
    carol,
    stranger,
    feeToken,
    rebasingToken,
    noReturnToken,
    falseReturnToken,
    feeHouse,
    rebasingHouse,
    noReturnHouse,
    falseReturnHouse,
  };
}

describe("Clearinghouse tokens", function () {
  describe("CH-05: deposit and withdrawal round trips", function () {
    for (const [decimals, fixture] of [
      [6, deploy6],
      [18, deploy18],
    ] as [number, () => Promise<ClearinghouseFixture>][]) {
      const scale = scaleOf(decimals);
      const amounts = [1n, 10n ** BigInt(decimals), 123_456_789n, 10n ** 12n * 10n ** BigInt(decimals), MAX_AMOUNT_RAW];
      for (const amountRaw of amounts) {
        it(`CH-05: returns exactly ${amountRaw} raw units with ${decimals} decimals and credits amount x 10^${18 - decimals}`, async function () {
          const { clearinghouse, token, alice } = await loadFixture(fixture);
          const house = await clearinghouse.getAddress();
          await token.mint(alice.address, MAX_AMOUNT_RAW);
          const walletBefore = await token.balanceOf(alice.address);
          const houseBefore = await token.balanceOf(house);

          await expect(clearinghouse.connect(alice).deposit(amountRaw))
            .to.emit(clearinghouse, "Deposited")
            .withArgs(alice.address, alice.address, amountRaw, amountRaw * scale);
          expect(await clearinghouse.cashOf(alice.address)).to.equal(amountRaw * scale);
          expect(await token.balanceOf(house)).to.equal(houseBefore + amountRaw);
          expect(await token.balanceOf(alice.address)).to.equal(walletBefore - amountRaw);

          await expect(clearinghouse.connect(alice).withdraw(alice.address, amountRaw, alice.address))
            .to.emit(clearinghouse, "Withdrawn")
            .withArgs(alice.address, alice.address, amountRaw);
          expect(await clearinghouse.cashOf(alice.address)).to.equal(0n);
          expect(await token.balanceOf(alice.address)).to.equal(walletBefore);
          expect(await token.balanceOf(house)).to.equal(houseBefore);
        });
      }

      it(`CH-05: reverts when withdrawing more than cash with ${decimals} decimals`, async function () {
        const { clearinghouse, alice } = await loadFixture(fixture);
        await expect(clearinghouse.connect(alice).withdraw(alice.address, 1n, alice.address))
          .to.be.revertedWithCustomError(clearinghouse, "InsufficientFreeCollateral")
          .withArgs(alice.address, scale, 0n);
        const depositRaw = units(5, decimals);
        await clearinghouse.connect(alice).deposit(depositRaw);
        await expect(clearinghouse.connect(alice).withdraw(alice.address, depositRaw + 1n, alice.address))
          .to.be.revertedWithCustomError(clearinghouse, "InsufficientFreeCollateral")
          .withArgs(alice.address, (depositRaw + 1n) * scale, depositRaw * scale);
        expect(await clearinghouse.cashOf(alice.address)).to.equal(depositRaw * scale);
        await clearinghouse.connect(alice).withdraw(alice.address, depositRaw, alice.address);
        expect(await clearinghouse.cashOf(alice.address)).to.equal(0n);
      });
    }

    it("CH-05: reverts with ZeroAmount for a zero amount on every collateral path", async function () {
      const { clearinghouse, admin, alice, bob } = await loadFixture(deploy6);
      await clearinghouse.connect(alice).deposit(units(10, 6));
      const ch = clearinghouse;
      await expect(ch.connect(alice).deposit(0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
      await expect(ch.connect(alice).depositFor(bob.address, 0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
      await expect(ch.connect(alice).withdraw(alice.address, 0n, alice.address)).to.be.revertedWithCustomError(
        ch,
        "ZeroAmount",
      );
      await expect(ch.connect(alice).contributeInsurance(0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
      await expect(ch.connect(admin).withdrawInsurance(admin.address, 0n)).to.be.revertedWithCustomError(
        ch,
        "ZeroAmount",
      );
      await expect(ch.connect(admin).withdrawFees(admin.address, 0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
      expect(await ch.cashOf(alice.address)).to.equal(units(10, 18));
    });

    it("CH-05: reverts with AmountTooLarge above 2^128 - 1 raw units on every collateral path", async function () {
      const { clearinghouse, token, admin, alice, bob } = await loadFixture(deploy6);
      const ch = clearinghouse;
      const tooLarge = MAX_AMOUNT_RAW + 1n;
      await token.mint(alice.address, tooLarge);
      expect(await ch.MAX_AMOUNT_RAW()).to.equal(MAX_AMOUNT_RAW);
      await expect(ch.connect(alice).deposit(tooLarge))
        .to.be.revertedWithCustomError(ch, "AmountTooLarge")
        .withArgs(tooLarge, MAX_AMOUNT_RAW);
      await expect(ch.connect(alice).depositFor(bob.address, tooLarge))
        .to.be.revertedWithCustomError(ch, "AmountTooLarge")
        .withArgs(tooLarge, MAX_AMOUNT_RAW);
      await expect(ch.connect(alice).contributeInsurance(tooLarge))
        .to.be.revertedWithCustomError(ch, "AmountTooLarge")
        .withArgs(tooLarge, MAX_AMOUNT_RAW);
      await expect(ch.connect(alice).withdraw(alice.address, tooLarge, alice.address))
        .to.be.revertedWithCustomError(ch, "AmountTooLarge")
        .withArgs(tooLarge, MAX_AMOUNT_RAW);
      await expect(ch.connect(admin).withdrawInsurance(admin.address, tooLarge))
        .to.be.revertedWithCustomError(ch, "AmountTooLarge")
        .withArgs(tooLarge, MAX_AMOUNT_RAW);
      await expect(ch.connect(admin).withdrawFees(admin.address, tooLarge))
        .to.be.revertedWithCustomError(ch, "AmountTooLarge")
        .withArgs(tooLarge, MAX_AMOUNT_RAW);
      expect(await token.balanceOf(await ch.getAddress())).to.equal(0n);
    });

    it("CH-05: reverts with ZeroAddress for a zero recipient or account", async function () {
      const { clearinghouse, admin, alice } = await loadFixture(deploy6);
      const ch = clearinghouse;
      await ch.connect(alice).deposit(units(10, 6));
      await expect(ch.connect(alice).withdraw(alice.address, 1n, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        ch,
        "ZeroAddress",
      );
      await expect(ch.connect(alice).depositFor(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        ch,
        "ZeroAddress",
      );
      await expect(ch.connect(admin).withdrawInsurance(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        ch,
        "ZeroAddress",
      );
      await expect(ch.connect(admin).withdrawFees(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        ch,
        "ZeroAddress",
      );
      expect(await ch.cashOf(alice.address)).to.equal(units(10, 18));
    });

    it("CH-05: depositFor credits the named account and pulls from the caller", async function () {
      const { clearinghouse, token, alice, bob } = await loadFixture(deploy6);
      const house = await clearinghouse.getAddress();
      const amountRaw = 123_456_789n;
      const aliceWallet = await token.balanceOf(alice.address);
      const bobWallet = await token.balanceOf(bob.address);
      await expect(clearinghouse.connect(bob).depositFor(alice.address, amountRaw))
        .to.emit(clearinghouse, "Deposited")
        .withArgs(alice.address, bob.address, amountRaw, amountRaw * 10n ** 12n);
      expect(await clearinghouse.cashOf(alice.address)).to.equal(amountRaw * 10n ** 12n);
      expect(await clearinghouse.cashOf(bob.address)).to.equal(0n);
      expect(await token.balanceOf(alice.address)).to.equal(aliceWallet);
      expect(await token.balanceOf(bob.address)).to.equal(bobWallet - amountRaw);
      expect(await token.balanceOf(house)).to.equal(amountRaw);
      // The credited account owns the cash: alice withdraws it, bob cannot.
      await expect(clearinghouse.connect(bob).withdraw(alice.address, amountRaw, bob.address))
        .to.be.revertedWithCustomError(clearinghouse, "NotAccountOwnerOrOperator")
        .withArgs(alice.address, bob.address);
      await clearinghouse.connect(alice).withdraw(alice.address, amountRaw, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(aliceWallet + amountRaw);
    });

    it("CH-05: the constructor refuses a collateral with 19 decimals and accepts 0 and 18", async function () {
      const { clearinghouse, oracle, admin } = await loadFixture(deploy6);
      const oracleAddress = await oracle.getAddress();
      const libraries = await deployLogicLibraries(admin);
      const token19 = await new MockERC20__factory(admin).deploy("Nineteen", "N19", 19);
      await expect(deployClearinghouse(admin, await token19.getAddress(), oracleAddress, admin.address, libraries))
        .to.be.revertedWithCustomError(clearinghouse, "CollateralDecimalsUnsupported")
        .withArgs(19);
      for (const decimals of [0, 18]) {
        const token = await new MockERC20__factory(admin).deploy("Edge", "EDG", decimals);
        const deployed = await deployClearinghouse(
          admin,
          await token.getAddress(),
          oracleAddress,
          admin.address,
          libraries,
        );
        expect(await deployed.clearinghouse.collateralDecimals()).to.equal(BigInt(decimals));
      }
    });

    it("reverts with ZeroAddress when the constructor gets a zero collateral, oracle or admin", async function () {
      const { clearinghouse, token, oracle, admin } = await loadFixture(deploy6);
      const libraries = await deployLogicLibraries(admin);
      const tokenAddress = await token.getAddress();
      const oracleAddress = await oracle.getAddress();
      const zero = ethers.ZeroAddress;
      for (const [collateral, oracleArg, adminArg] of [
        [zero, oracleAddress, admin.address],
        [tokenAddress, zero, admin.address],
        [tokenAddress, oracleAddress, zero],
      ]) {
        await expect(
          deployClearinghouse(admin, collateral, oracleArg, adminArg, libraries),
        ).to.be.revertedWithCustomError(clearinghouse, "ZeroAddress");
      }
    });
  });

  describe("CH-06: hostile collateral tokens", function () {
    it("CH-06: refuses a fee-on-transfer token with the exact amounts and keeps cash and balance unchanged", async function () {
      const { feeHouse, feeToken, alice } = await loadFixture(hostileFixture);
      const house = await feeHouse.getAddress();
      const amountRaw = 1_000_000n;
      const fee = (amountRaw * (await feeToken.feeBps())) / 10_000n;
      expect(fee).to.equal(10_000n);
      await expect(feeHouse.connect(alice).deposit(amountRaw))
        .to.be.revertedWithCustomError(feeHouse, "CollateralTransferMismatch")
        .withArgs(amountRaw, amountRaw - fee);
      await expect(feeHouse.connect(alice).depositFor(alice.address, 123_456_789n))
        .to.be.revertedWithCustomError(feeHouse, "CollateralTransferMismatch")
        .withArgs(123_456_789n, 123_456_789n - 1_234_567n);
      await expect(feeHouse.connect(alice).contributeInsurance(amountRaw))
        .to.be.revertedWithCustomError(feeHouse, "CollateralTransferMismatch")
        .withArgs(amountRaw, amountRaw - fee);
      expect(await feeHouse.cashOf(alice.address)).to.equal(0n);
      expect(await feeHouse.insuranceFundX18()).to.equal(0n);
      expect(await feeToken.balanceOf(house)).to.equal(0n);
    });

    it("CH-06: checks each transfer, so fee-free dust of a fee token is exact and conservation holds", async function () {
      // The mock's fee rounds down to zero below 100 raw units: such a transfer moves exactly the
      // amount asked and is accepted. A withdrawal is debited in full from the clearinghouse (the
      // token takes its fee out of what the recipient receives), so the vault stays conserved.
      const { feeHouse, feeToken, alice, bob, carol } = await loadFixture(hostileFixture);
      const house = await feeHouse.getAddress();
      const accounts = [alice.address, bob.address, carol.address];
      await feeHouse.connect(alice).deposit(99n);
      await feeHouse.connect(alice).deposit(99n);
      await feeHouse.connect(bob).deposit(99n);
      await feeHouse.connect(alice).depositFor(carol.address, 99n);
      expect(await feeToken.balanceOf(house)).to.equal(396n);
      expect(await sumCash(feeHouse, accounts)).to.equal(396n * 10n ** 12n);
      await expect(feeHouse.connect(alice).deposit(100n))
        .to.be.revertedWithCustomError(feeHouse, "CollateralTransferMismatch")
        .withArgs(100n, 99n);
      const walletBefore = await feeToken.balanceOf(alice.address);
      await expect(feeHouse.connect(alice).withdraw(alice.address, 198n, alice.address))
        .to.emit(feeHouse, "Withdrawn")
        .withArgs(alice.address, alice.address, 198n);
      expect(await feeToken.balanceOf(house)).to.equal(198n);
      expect(await sumCash(feeHouse, accounts)).to.equal(198n * 10n ** 12n);
      // The token's 1% (rounded down) of 198 is charged to the recipient, not to the vault.
      expect(await feeToken.balanceOf(alice.address)).to.equal(walletBefore + 197n);
    });

    it("CH-06: refuses a rebasing token with the exact amounts and keeps cash and balance unchanged", async function () {
      const { rebasingHouse, rebasingToken, alice } = await loadFixture(hostileFixture);
      const house = await rebasingHouse.getAddress();
      for (const amountRaw of [units(1, 18), 123_456_789_000n]) {
        const index = await rebasingToken.indexX18();
        const shares = (amountRaw * 10n ** 18n) / index;
        const indexAfter = index + (index * (await rebasingToken.rebaseBps())) / 10_000n;
        const received = (shares * indexAfter) / 10n ** 18n;
        expect(received).to.be.greaterThan(amountRaw);
        await expect(rebasingHouse.connect(alice).deposit(amountRaw))
          .to.be.revertedWithCustomError(rebasingHouse, "CollateralTransferMismatch")
          .withArgs(amountRaw, received);
        await expect(rebasingHouse.connect(alice).contributeInsurance(amountRaw))
          .to.be.revertedWithCustomError(rebasingHouse, "CollateralTransferMismatch")
          .withArgs(amountRaw, received);
      }
      expect(await rebasingHouse.cashOf(alice.address)).to.equal(0n);
      expect(await rebasingHouse.insuranceFundX18()).to.equal(0n);
      expect(await rebasingToken.balanceOf(house)).to.equal(0n);
    });

    it("CH-06: accepts a token that returns nothing and conserves balance = sum of cash", async function () {
      const { noReturnHouse, noReturnToken, alice, bob, carol } = await loadFixture(hostileFixture);
      const house = await noReturnHouse.getAddress();
      const accounts = [alice.address, bob.address, carol.address];
      const scale = 10n ** 12n;
      const conserved = async () =>
        expect((await noReturnToken.balanceOf(house)) * scale).to.equal(await sumCash(noReturnHouse, accounts));

      await expect(noReturnHouse.connect(alice).deposit(1_000_000n))
        .to.emit(noReturnHouse, "Deposited")
        .withArgs(alice.address, alice.address, 1_000_000n, 1_000_000n * scale);
      await noReturnHouse.connect(bob).depositFor(carol.address, 250_000n);
      await conserved();
      await expect(noReturnHouse.connect(alice).withdraw(alice.address, 400_000n, bob.address))
        .to.emit(noReturnHouse, "Withdrawn")
        .withArgs(alice.address, bob.address, 400_000n);
      expect(await noReturnToken.balanceOf(house)).to.equal(850_000n);
      expect(await noReturnHouse.cashOf(alice.address)).to.equal(600_000n * scale);
      expect(await noReturnHouse.cashOf(carol.address)).to.equal(250_000n * scale);
      await conserved();
    });

    it("CH-06: refuses deposits and withdrawals of a no-return token that silently moves nothing", async function () {
      const { noReturnHouse, noReturnToken, alice, bob } = await loadFixture(hostileFixture);
      const house = await noReturnHouse.getAddress();
      await noReturnHouse.connect(alice).deposit(1_000_000n);
      await noReturnToken.setSilentFailure(true);
      const cashBefore = await noReturnHouse.cashOf(alice.address);
      await expect(noReturnHouse.connect(alice).deposit(500_000n))
        .to.be.revertedWithCustomError(noReturnHouse, "CollateralTransferMismatch")
        .withArgs(500_000n, 0n);
      await expect(noReturnHouse.connect(bob).depositFor(alice.address, 500_000n))
        .to.be.revertedWithCustomError(noReturnHouse, "CollateralTransferMismatch")
        .withArgs(500_000n, 0n);
      await expect(noReturnHouse.connect(bob).contributeInsurance(500_000n))
        .to.be.revertedWithCustomError(noReturnHouse, "CollateralTransferMismatch")
        .withArgs(500_000n, 0n);
      await expect(noReturnHouse.connect(alice).withdraw(alice.address, 400_000n, alice.address))
        .to.be.revertedWithCustomError(noReturnHouse, "CollateralTransferMismatch")
        .withArgs(400_000n, 0n);
      expect(await noReturnHouse.cashOf(alice.address)).to.equal(cashBefore);
      expect(await noReturnHouse.cashOf(bob.address)).to.equal(0n);
      expect(await noReturnHouse.insuranceFundX18()).to.equal(0n);
      expect(await noReturnToken.balanceOf(house)).to.equal(1_000_000n);
      expect((await noReturnToken.balanceOf(house)) * 10n ** 12n).to.equal(
        await sumCash(noReturnHouse, [alice.address, bob.address]),
      );
    });

    it("CH-06: refuses a token that returns false with SafeERC20FailedOperation and keeps state unchanged", async function () {
      const { falseReturnHouse, falseReturnToken, alice, bob } = await loadFixture(hostileFixture);
      const house = await falseReturnHouse.getAddress();
      const tokenAddress = await falseReturnToken.getAddress();
      // Works while the token behaves.
      await falseReturnHouse.connect(alice).deposit(1_000_000n);
      await falseReturnHouse.connect(alice).withdraw(alice.address, 100_000n, alice.address);
      expect(await falseReturnToken.balanceOf(house)).to.equal(900_000n);

      await falseReturnToken.setFailing(true);
      await expect(falseReturnHouse.connect(alice).deposit(1n))
        .to.be.revertedWithCustomError(falseReturnHouse, "SafeERC20FailedOperation")
        .withArgs(tokenAddress);
      await expect(falseReturnHouse.connect(bob).depositFor(alice.address, 500_000n))
        .to.be.revertedWithCustomError(falseReturnHouse, "SafeERC20FailedOperation")
        .withArgs(tokenAddress);
      await expect(falseReturnHouse.connect(bob).contributeInsurance(500_000n))
        .to.be.revertedWithCustomError(falseReturnHouse, "SafeERC20FailedOperation")
        .withArgs(tokenAddress);
      await expect(falseReturnHouse.connect(alice).withdraw(alice.address, 900_000n, alice.address))
        .to.be.revertedWithCustomError(falseReturnHouse, "SafeERC20FailedOperation")
        .withArgs(tokenAddress);
      expect(await falseReturnHouse.cashOf(alice.address)).to.equal(900_000n * 10n ** 12n);
      expect(await falseReturnHouse.cashOf(bob.address)).to.equal(0n);
      expect(await falseReturnHouse.insuranceFundX18()).to.equal(0n);
      expect(await falseReturnToken.balanceOf(house)).to.equal(900_000n);
    });

    it("CH-06: a direct donation changes no cash, insurance fund or fee pool, and withdrawals still work", async function () {
      const { clearinghouse, token, admin, engine, alice, bob, carol, stranger, seriesId } = await loadFixture(deploy6);
      const ch = clearinghouse;
      const house = await ch.getAddress();
      const scale = 10n ** 12n;
      const accounts = [alice.address, bob.address, carol.address, stranger.address];
      let donatedRaw = 0n;
      const conserved = async () =>
        expect((await token.balanceOf(house)) * scale).to.equal(
          (await sumCash(ch, accounts)) + (await ch.insuranceFundX18()) + (await ch.feePoolX18()) + donatedRaw * scale,
        );

      await ch.connect(admin).setInsuranceFeeShare(2_500);
      await ch.connect(alice).deposit(units(100_000, 6));
      await ch.connect(bob).deposit(units(100_000, 6));
      await ch.connect(carol).deposit(units(50_000, 6));
      await ch.connect(carol).contributeInsurance(units(1_000, 6));
      // Notional 10 x 4 x 1,000 = 40,000: maker fee 4, taker fee 20; a quarter of the 24 to insurance.
      await ch.connect(engine).applyTrade(fill(seriesId, alice.address, bob.address, 10n, "4"));
      expect(await ch.feePoolX18()).to.equal(units(18, 18));
      expect(await ch.insuranceFundX18()).to.equal(units(1_006, 18));
      await conserved();

      const cashBefore = await Promise.all(accounts.map((a) => ch.cashOf(a)));
      const insuranceBefore = await ch.insuranceFundX18();
      const feesBefore = await ch.feePoolX18();
      donatedRaw = 777_777n;
      await token.mint(stranger.address, donatedRaw);
      await token.connect(stranger).transfer(house, donatedRaw);
      expect(await Promise.all(accounts.map((a) => ch.cashOf(a)))).to.deep.equal(cashBefore);
      expect(await ch.insuranceFundX18()).to.equal(insuranceBefore);
      expect(await ch.feePoolX18()).to.equal(feesBefore);
      await conserved();

      await ch.connect(carol).withdraw(carol.address, units(50_000, 6), carol.address);
      await ch.connect(alice).withdraw(alice.address, units(1_000, 6), alice.address);
      await ch.connect(admin).withdrawFees(admin.address, units(18, 6));
      await ch.connect(admin).withdrawInsurance(admin.address, units(1_006, 6));
      expect(await ch.cashOf(carol.address)).to.equal(0n);
      expect(await ch.feePoolX18()).to.equal(0n);
      expect(await ch.insuranceFundX18()).to.equal(0n);
      await conserved();
      // The donation is not anyone's: it can be neither withdrawn by the donor nor paid out of a pool.
      await expect(ch.connect(stranger).withdraw(stranger.address, 1n, stranger.address))
        .to.be.revertedWithCustomError(ch, "InsufficientFreeCollateral")
        .withArgs(stranger.address, scale, 0n);
      await expect(ch.connect(admin).withdrawFees(admin.address, 1n))
        .to.be.revertedWithCustomError(ch, "PoolBalanceTooLow")
        .withArgs(ethers.encodeBytes32String("fees"), scale, 0n);
    });
  });
});
