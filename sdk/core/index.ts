/**
 * The core math of the exchange: the TypeScript reference model of the clearinghouse's libraries.
 * bigint only, no chain access; each function mirrors the Solidity function of the same name.
 */
export * from "./fixedPoint";
export * from "./position";
export * from "./mark";
export * from "./margin";
export * from "./settlement";
export * from "./liquidation";
