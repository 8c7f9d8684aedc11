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
