/** The typed client: `TokenpitClient` and everything its calls take and return. */
export * from "./client";
export * from "./errors";
export * from "./types";
export type { ClientAddresses } from "./connection";
export { Connection, clientAddressesOf } from "./connection";
export type { AllowanceMode, DepositOptions } from "./collateral";
export type { FillQuery } from "./reads";
export type { StreamOptions, Subscription } from "./streams";
export type {
  EventMeta,
  IndexUpdate,
  LiquidationEvent,
  OrderEvent,
  SettlementEvent,
  StreamFilter,
} from "./subscriptions";
export { ORDER_KINDS, DEFAULT_MAX_FILLS } from "./orders";
export { CANCEL_REASONS } from "./receipt";
