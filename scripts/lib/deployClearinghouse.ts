/**
 * Deploys the clearinghouse and its logic libraries (linked by address), and encodes series listings
 * for `listSeries`. Used by the tests, the benchmarks and the deployment.
 */
import type { Signer } from "ethers";
import { encodeBytes32String } from "ethers";
import { ethers } from "hardhat";
import { Clearinghouse__factory } from "../../typechain-types";
import type { Clearinghouse } from "../../typechain-types";
import type { IClearinghouse } from "../../typechain-types/contracts/core/Clearinghouse";
import type { SeriesListing } from "../../config/series";

export interface ClearinghouseLibraries {
  marginLogic: string;
  settlementLogic: string;
  tradeLogic: string;
}

/** Deploys the three logic libraries. */
export async function deployLogicLibraries(deployer: Signer): Promise<ClearinghouseLibraries> {
  // Libraries whose functions all take storage pointers have no ABI, so no typechain factory.
  const margin = await (await ethers.getContractFactory("MarginLogic", deployer)).deploy();
  const settlement = await (await ethers.getContractFactory("SettlementLogic", deployer)).deploy();
  const marginLogic = await margin.getAddress();
  const settlementLogic = await settlement.getAddress();
  const trade = await (
    await ethers.getContractFactory("TradeLogic", {
      signer: deployer,
      libraries: { MarginLogic: marginLogic },
    })
  ).deploy();
  return { marginLogic, settlementLogic, tradeLogic: await trade.getAddress() };
}

/** Deploys a clearinghouse over `collateral` and `oracle`, with `admin` as DEFAULT_ADMIN_ROLE. */
export async function deployClearinghouse(
  deployer: Signer,
  collateral: string,
  oracle: string,
  admin: string,
  libraries?: ClearinghouseLibraries,
): Promise<{ clearinghouse: Clearinghouse; libraries: ClearinghouseLibraries }> {
  const libs = libraries ?? (await deployLogicLibraries(deployer));
  const factory = new Clearinghouse__factory(
    {
      "contracts/core/logic/MarginLogic.sol:MarginLogic": libs.marginLogic,
      "contracts/core/logic/SettlementLogic.sol:SettlementLogic": libs.settlementLogic,
      "contracts/core/logic/TradeLogic.sol:TradeLogic": libs.tradeLogic,
    },
    deployer,
  );
  const clearinghouse = await factory.deploy(collateral, oracle, admin);
  await clearinghouse.waitForDeployment();
  return { clearinghouse, libraries: libs };
}

/** The `listSeries` arguments of a listing. */
export function listingArgs(
  listing: SeriesListing,
): [IClearinghouse.SeriesSpecStruct, IClearinghouse.RiskParamsStruct] {
  return [{ ...listing.spec, symbol: encodeBytes32String(listing.spec.symbol) }, { ...listing.risk }];
}
