/**
 * Entry point of the settlement keeper: `npm run keeper:settler` (configuration in .env, see
 * docs/keepers.md). Finalizes expired series and settles their accounts in batches.
 */
import { z } from "zod";
import { runClearinghouseKeeper } from "../shared/keeperMain";
import { Settler } from "./settler";

const schema = z.object({ SETTLER_BATCH_SIZE: z.coerce.number().int().min(1).max(200).default(50) });

runClearinghouseKeeper("settler", schema, (stack, config) => {
  const settler = new Settler({ ...stack, settings: { batchSize: config.keeper.SETTLER_BATCH_SIZE } });
  let waiting = 0;
  return {
    tick: async () => {
      waiting = (await settler.tick()).length;
    },
    queueDepth: () => waiting,
  };
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
