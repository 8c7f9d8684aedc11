/**
 * Deploys the clearinghouse and its logic libraries (linked by address), and encodes series listings
 * for `listSeries`. Used by the tests, the benchmarks and the deployment.
 */
import type { Signer } from "ethers";
import { encodeBytes32String } from "ethers";
import { ethers } from "hardhat";
import { ClearinghouseHarness__factory, Clearinghouse__factory } from "../../typechain-types";
import type { Clearinghouse, ClearinghouseHarness } from "../../typechain-types";
import type { IClearinghouse } from "../../typechain-types/contracts/core/Clearinghouse";
import type { SeriesListing } from "../../config/series";

export interface ClearinghouseLibraries {
  marginLogic: string;
  settlementLogic: string;
  orderBookLogic: string;
  orderCancelLogic: string;
  liquidationLogic: string;
  deficitLogic: string;
}

/**
 * The logic libraries in deployment order: field of `ClearinghouseLibraries`, contract name, and whether it links
 * MarginLogic (deployed first). Used by `deployLogicLibraries` and the journaled deployment.
 */
export const LOGIC_LIBRARIES: [keyof ClearinghouseLibraries, string, boolean][] = [
  ["marginLogic", "MarginLogic", false],
  ["settlementLogic", "SettlementLogic", false],
  ["orderBookLogic", "OrderBookLogic", true],
  ["orderCancelLogic", "OrderCancelLogic", true],
  ["liquidationLogic", "LiquidationLogic", true],
  ["deficitLogic", "DeficitLogic", true],
];

/** The factory of logic library `name` (libraries whose functions all take storage pointers have no typechain factory). */
export function logicLibraryFactory(name: string, deployer: Signer, linksMargin: boolean, marginLogic?: string) {
  return ethers.getContractFactory(name, {
    signer: deployer,
    libraries: linksMargin ? { MarginLogic: marginLogic! } : {},
  });
}

/** Deploys the six logic libraries (four of them link MarginLogic). */
export async function deployLogicLibraries(deployer: Signer): Promise<ClearinghouseLibraries> {
  const libraries = {} as ClearinghouseLibraries;
  for (const [field, name, linksMargin] of LOGIC_LIBRARIES) {
    const factory = await logicLibraryFactory(name, deployer, linksMargin, libraries.marginLogic);
    libraries[field] = await (await factory.deploy()).getAddress();
  }
  return libraries;
}

/** The link references of the clearinghouse's bytecode, from the library addresses. */
export function linkReferences(libs: ClearinghouseLibraries) {
  return {
    "contracts/core/logic/MarginLogic.sol:MarginLogic": libs.marginLogic,
    "contracts/core/logic/SettlementLogic.sol:SettlementLogic": libs.settlementLogic,
    "contracts/core/logic/OrderBookLogic.sol:OrderBookLogic": libs.orderBookLogic,
    "contracts/core/logic/OrderCancelLogic.sol:OrderCancelLogic": libs.orderCancelLogic,
    "contracts/core/logic/LiquidationLogic.sol:LiquidationLogic": libs.liquidationLogic,
    "contracts/core/logic/DeficitLogic.sol:DeficitLogic": libs.deficitLogic,
  };
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
  const factory = new Clearinghouse__factory(linkReferences(libs), deployer);
  const clearinghouse = await factory.deploy(collateral, oracle, admin);
  await clearinghouse.waitForDeployment();
  return { clearinghouse, libraries: libs };
}

/**
 * Test-only: the clearinghouse plus direct fills (`ClearinghouseHarness`), for unit tests that reach
 * one fill's margin rules without a book. Never part of a deployment.
 */
export async function deployClearinghouseHarness(
  deployer: Signer,
  collateral: string,
  oracle: string,
  admin: string,
): Promise<{ clearinghouse: ClearinghouseHarness; libraries: ClearinghouseLibraries }> {
  const libs = await deployLogicLibraries(deployer);
  const directFill = await (
    await ethers.getContractFactory("DirectFillLogic", {
      signer: deployer,
      libraries: { MarginLogic: libs.marginLogic },
    })
  ).deploy();
  const factory = new ClearinghouseHarness__factory(
    {
      ...linkReferences(libs),
      "contracts/mocks/DirectFillLogic.sol:DirectFillLogic": await directFill.getAddress(),
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
