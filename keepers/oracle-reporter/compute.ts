/** Computes a feed's index value from its inputs with the feed's methodology. */
import { computeAitIndex } from "./methodology/ait";
import { computeGpuhIndex } from "./methodology/gpuh";
import { sourceHashOf } from "./source";
import type { FeedInputs } from "./source";

export interface ComputedIndex {
  feed: FeedInputs["feed"];
  methodologyVersion: number;
  indexX18: bigint;
  sourceHash: string;
  label: string;
  warnings: string[];
}

/** @throws IndexDataError when the inputs fail the methodology's validation. */
export function computeIndex(inputs: FeedInputs): ComputedIndex {
  const result =
    inputs.feed === "AIT"
      ? computeAitIndex(inputs.basket, inputs.prices)
      : computeGpuhIndex(inputs.panel, inputs.observations);
  const methodologyVersion = inputs.feed === "AIT" ? inputs.basket.methodologyVersion : inputs.panel.methodologyVersion;
  return {
    feed: inputs.feed,
    methodologyVersion,
    indexX18: result.indexX18,
    sourceHash: sourceHashOf(inputs),
    label: inputs.label,
    warnings: result.warnings,
  };
}
