/**
 * The demo's sharp index drop, fed through the reporter like any other data: an index source that scales the AIT
 * list prices of the bundled sample path by (1 - dropBps / 10,000) from `fromSec` on. The reporter computes the
 * index from them, so the drop reaches the oracle as signed rounds (held by the jump guard, then confirmed).
 */
import type { IndexSource } from "../../../keepers/oracle-reporter/source";
import { formatFixed, parseFixed } from "../../../sdk";

const DECIMALS = 18;

/** `value` (a decimal string) x numerator / 10,000, rounded down at 18 decimals. */
function scaleDecimal(value: string, keptBps: bigint): string {
  const scaled = (parseFixed(value, DECIMALS) * keptBps) / 10_000n;
  return formatFixed(scaled, DECIMALS, 0);
}

export class ShockedSource implements IndexSource {
  constructor(
    private readonly inner: IndexSource,
    private readonly fromSec: bigint,
    private readonly dropBps: bigint,
  ) {}

  async read(timeSec: bigint): ReturnType<IndexSource["read"]> {
    const inputs = await this.inner.read(timeSec);
    if (timeSec < this.fromSec) return inputs;
    const kept = 10_000n - this.dropBps;
    const prices = Object.fromEntries(
      Object.entries(inputs.AIT.prices).map(([sku, price]) => [
        sku,
        {
          ...price,
          input: scaleDecimal(price.input, kept),
          output: scaleDecimal(price.output, kept),
          secondary:
            price.secondary === undefined
              ? undefined
              : {
                  ...price.secondary,
                  input: scaleDecimal(price.secondary.input, kept),
                  output: scaleDecimal(price.secondary.output, kept),
                },
        },
      ]),
    );
    return {
      ...inputs,
      AIT: { ...inputs.AIT, label: `${inputs.AIT.label} (demo shock -${this.dropBps} bps)`, prices },
    };
  }
}
