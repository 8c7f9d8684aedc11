// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIndexOracle} from "../interfaces/IIndexOracle.sol";

/// @title ObservationHistory
/// @notice A ring buffer of oracle rounds with a cumulative price-time accumulator, so the
/// time-weighted average price over any window inside the retained history is exact.
/// @dev Round ids start at 1; round `id` lives in slot `(id - 1) % capacity`. The price in force
/// at time t is the price of the last round observed at or before t. The accumulator of round k
/// is the integral of that step function from the first round up to round k's observation time.
library ObservationHistory {
    /// @notice A ring of observations; `capacity` is fixed by the caller for the ring's lifetime.
    struct Ring {
        mapping(uint256 slot => IIndexOracle.Observation) slots;
    }

    /// @notice Appends round `previousCount + 1`.
    /// @dev The caller guarantees observedAt > previous.observedAt and that prices and times fit
    /// their fields. Safe from overflow: cumulative <= maxPrice (< 2^88) * elapsed (< 2^32) < 2^120.
    /// @param ring The ring.
    /// @param capacity Number of slots.
    /// @param previousCount Rounds recorded so far.
    /// @param previous The latest observation (ignored when previousCount is 0).
    /// @param observedAt The new round's observation time.
    /// @param priceX18 The new round's price.
    /// @param methodologyVersion The new round's methodology version.
    /// @return next The stored observation.
    function append(
        Ring storage ring,
        uint256 capacity,
        uint256 previousCount,
        IIndexOracle.Observation memory previous,
        uint32 observedAt,
        uint88 priceX18,
        uint16 methodologyVersion
    ) internal returns (IIndexOracle.Observation memory next) {
        uint120 cumulative = 0;
        if (previousCount > 0) {
            cumulative =
                previous.cumulativeX18 + uint120(previous.priceX18) * uint120(observedAt - previous.observedAt);
        }
        next = IIndexOracle.Observation({
            observedAt: observedAt,
            priceX18: priceX18,
            methodologyVersion: methodologyVersion,
            cumulativeX18: cumulative
        });
        ring.slots[previousCount % capacity] = next;
    }

    /// @notice Writes a placeholder into an unused slot so the first real write to it costs a
    /// non-zero-to-non-zero store instead of a zero-to-non-zero one.
    /// @dev The caller guarantees the slot holds no retained round; reads never reach slots at or
    /// beyond the round count, so the placeholder is never read as a price.
    function prewarm(Ring storage ring, uint256 slot) internal {
        ring.slots[slot] = IIndexOracle.Observation({
            observedAt: 0,
            priceX18: 0,
            methodologyVersion: 0,
            cumulativeX18: 1
        });
    }

    /// @notice The observation of round `roundId` (1-based); the caller checks it is retained.
    function at(
        Ring storage ring,
        uint256 capacity,
        uint256 roundId
    ) internal view returns (IIndexOracle.Observation memory) {
        return ring.slots[(roundId - 1) % capacity];
    }

    /// @notice The oldest retained round id (1-based) given `count` recorded rounds; 0 when empty.
    function oldestRoundId(uint256 capacity, uint256 count) internal pure returns (uint256) {
        if (count == 0) return 0;
        return count > capacity ? count - capacity + 1 : 1;
    }

    /// @notice Finds the last retained round observed at or before `time`.
    /// @dev Binary search over at most `capacity` rounds: O(log capacity) storage reads. Checks
    /// the latest round first, the common case for windows ending now.
    /// @param ring The ring.
    /// @param capacity Number of slots.
    /// @param count Rounds recorded so far.
    /// @param time The time.
    /// @return roundId The round id (1-based), or 0 when no retained round is at or before `time`.
    /// @return observation The round (zero when roundId is 0).
    function lastAtOrBefore(
        Ring storage ring,
        uint256 capacity,
        uint256 count,
        uint256 time
    ) internal view returns (uint256 roundId, IIndexOracle.Observation memory observation) {
        if (count == 0) return (0, observation);
        observation = at(ring, capacity, count);
        if (observation.observedAt <= time) return (count, observation);
        uint256 low = oldestRoundId(capacity, count);
        observation = at(ring, capacity, low);
        if (observation.observedAt > time) return (0, IIndexOracle.Observation(0, 0, 0, 0));
        // Invariant: round `low` is at or before `time`, round `high` is after it.
        uint256 high = count;
        while (high - low > 1) {
            uint256 mid = low + (high - low) / 2;
            IIndexOracle.Observation memory candidate = at(ring, capacity, mid);
            if (candidate.observedAt <= time) {
                low = mid;
                observation = candidate;
            } else {
                high = mid;
            }
        }
        return (low, observation);
    }

    /// @notice The accumulator extended from `observation` to `time` (>= its observation time).
    function cumulativeAt(
        IIndexOracle.Observation memory observation,
        uint256 time
    ) internal pure returns (uint256 cumulativeX18) {
        return uint256(observation.cumulativeX18) + uint256(observation.priceX18) * (time - observation.observedAt);
    }
}
