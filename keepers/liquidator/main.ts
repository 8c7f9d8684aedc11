/**
 * Entry point of the liquidator keeper: `npm run keeper:liquidator` (configuration in .env, see
 * docs/keepers.md). Liquidates accounts below maintenance margin into the keeper's own account.
 */
import { z } from "zod";
import { runClearinghouseKeeper } from "../shared/keeperMain";
import { Liquidator } from "./liquidator";

const schema = z.object({
  LIQUIDATOR_BATCH_SIZE: z.coerce.number().int().min(1).max(50).default(40),
  LIQUIDATOR_FIRST_BATCH_SIZE: z.coerce.number().int().min(1).max(50).default(10),
  LIQUIDATOR_MAX_CONCURRENT_BATCHES: z.coerce.number().int().min(1).max(20).default(8),
  LIQUIDATOR_UNWIND: z.enum(["true", "false"]).default("false"),
});

runClearinghouseKeeper("liquidator", schema, (stack, config) => {
  const liquidator = new Liquidator({
    ...stack,
    settings: {
      batchSize: config.keeper.LIQUIDATOR_BATCH_SIZE,
      firstBatchSize: config.keeper.LIQUIDATOR_FIRST_BATCH_SIZE,
      maxConcurrentBatches: config.keeper.LIQUIDATOR_MAX_CONCURRENT_BATCHES,
      unwind: config.keeper.LIQUIDATOR_UNWIND === "true",
    },
  });
  return { tick: () => liquidator.tick(), queueDepth: () => liquidator.lastReport?.liquidatable ?? 0 };
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
