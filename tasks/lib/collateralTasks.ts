/**
 * `deposit` and `withdraw`: collateral in and out of the acting signer's account, amounts in token units
 * (USD; the token's decimals). A deposit checks the balance and the allowance before it sends anything.
 */
import type { ActingArgs, CliContext } from "./context";
import { emit, signerOf } from "./context";
import { CliError } from "./cliError";
import { parseAddress, parseAmountRaw, tokenAmount, usd } from "./units";

export interface DepositArgs extends ActingArgs {
  amount?: string;
  /** Approve the clearinghouse for the amount when the allowance is short. */
  approve?: boolean;
}

export interface WithdrawArgs extends ActingArgs {
  amount?: string;
  /** Receiver (default: the signer). */
  to?: string;
}

/** Deposits `--amount` from the signer into its account. */
export async function depositTask(ctx: CliContext, args: DepositArgs): Promise<void> {
  if (args.amount === undefined) throw new CliError("--amount is required");
  const { decimals, symbol } = ctx.deployment.collateral;
  const amountRaw = parseAmountRaw(args.amount, decimals, "--amount");
  const signer = await signerOf(ctx.hre, args.from);
  const spender = ctx.deployment.contracts.clearinghouse;
  const token = ctx.token.connect(signer);
  const [balanceRaw, allowanceRaw] = await Promise.all([
    token.balanceOf(signer.address),
    token.allowance(signer.address, spender),
  ]);
  if (balanceRaw < amountRaw) {
    throw new CliError(
      `insufficient ${symbol} balance: ${signer.address} holds ${tokenAmount(balanceRaw, decimals)}, the deposit needs ${tokenAmount(amountRaw, decimals)}`,
    );
  }
  let approved = false;
  if (allowanceRaw < amountRaw) {
    if (args.approve !== true) {
      throw new CliError(
        `insufficient ${symbol} allowance: ${tokenAmount(allowanceRaw, decimals)} approved for the clearinghouse, the deposit needs ${tokenAmount(amountRaw, decimals)}; pass --approve to approve it`,
      );
    }
    await (await token.approve(spender, amountRaw)).wait();
    approved = true;
  }
  const receipt = await (await ctx.clearinghouse.connect(signer).deposit(amountRaw)).wait();
  const cashX18 = await ctx.clearinghouse.cashOf(signer.address);
  emit(ctx, { account: signer.address, amountRaw, approved, cashX18, txHash: receipt?.hash ?? null }, [
    `${approved ? `approved and deposited` : "deposited"} ${tokenAmount(amountRaw, decimals)} ${symbol} into ${signer.address}`,
    `cash now ${usd(cashX18)} USD (tx ${receipt?.hash})`,
  ]);
}

/** Withdraws `--amount` from the signer's account to `--to` (default: the signer). */
export async function withdrawTask(ctx: CliContext, args: WithdrawArgs): Promise<void> {
  if (args.amount === undefined) throw new CliError("--amount is required");
  const { decimals, symbol } = ctx.deployment.collateral;
  const amountRaw = parseAmountRaw(args.amount, decimals, "--amount");
  const signer = await signerOf(ctx.hre, args.from);
  const to = args.to === undefined ? signer.address : parseAddress(args.to, "--to");
  const receipt = await (await ctx.clearinghouse.connect(signer).withdraw(signer.address, amountRaw, to)).wait();
  const cashX18 = await ctx.clearinghouse.cashOf(signer.address);
  emit(ctx, { account: signer.address, to, amountRaw, cashX18, txHash: receipt?.hash ?? null }, [
    `withdrew ${tokenAmount(amountRaw, decimals)} ${symbol} from ${signer.address} to ${to}`,
    `cash now ${usd(cashX18)} USD (tx ${receipt?.hash})`,
  ]);
}

export interface FaucetArgs extends ActingArgs {
  amount?: string;
  /** Receiver (default: the signer). */
  to?: string;
}

/** Mints `--amount` of the deployment's mock collateral to `--to` (refused when the collateral is a real token). */
export async function faucetTask(ctx: CliContext, args: FaucetArgs): Promise<void> {
  if (args.amount === undefined) throw new CliError("--amount is required");
  const { decimals, symbol, mock, address } = ctx.deployment.collateral;
  if (!mock) throw new CliError(`the collateral ${address} is not the deployment's mock token: no faucet`);
  const amountRaw = parseAmountRaw(args.amount, decimals, "--amount");
  const signer = await signerOf(ctx.hre, args.from);
  const to = args.to === undefined ? signer.address : parseAddress(args.to, "--to");
  const receipt = await (await ctx.token.connect(signer).mint(to, amountRaw)).wait();
  const balanceRaw = await ctx.token.balanceOf(to);
  emit(ctx, { to, amountRaw, balanceRaw, txHash: receipt?.hash ?? null }, [
    `minted ${tokenAmount(amountRaw, decimals)} mock ${symbol} to ${to}; balance ${tokenAmount(balanceRaw, decimals)}`,
  ]);
}
