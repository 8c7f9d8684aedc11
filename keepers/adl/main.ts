/**
 * Entry point of the ADL keeper: `npm run keeper:adl` (configuration in .env, see docs/keepers.md).
 * Deleverages bankrupt accounts whose deficit the insurance fund cannot pay.
 */
import { z } from "zod";
import { runClearinghouseKeeper } from "../shared/keeperMain";
import { AdlKeeper } from "./adlKeeper";

runClearinghouseKeeper("adl", z.object({}), (stack) => {
  const keeper = new AdlKeeper(stack);
  let waiting = 0;
  return {
    tick: async () => {
      waiting = (await keeper.tick()).plans;
    },
    queueDepth: () => waiting,
  };
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
