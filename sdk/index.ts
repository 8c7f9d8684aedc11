/**
 * The public surface of the Tokenpit SDK. Import from here only.
 */
export * from "./errors";
export * from "./units";
export * from "./math/bps";
export * from "./math/median";
export * from "./oracle/reports";
export * from "./oracle/twapReference";
export * from "./core";
export * from "./core/orderBook";
export * from "./contractErrors";
export * from "./generated/contractErrors";
export * from "./core/accountMetrics";
export * from "./core/liquidationPrice";
export * from "./deployment";
export * from "./client";
// The generated contract bindings (typechain, ethers v6): contract types and their factories.
export * from "../typechain-types";
