// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIndexOracle} from "contracts/interfaces/IIndexOracle.sol";
import {ObservationHistory} from "contracts/libraries/ObservationHistory.sol";

/// @notice SMTChecker harness for ObservationHistory's arithmetic (real library code, no model).
contract ObservationHistoryProps {
    using ObservationHistory for ObservationHistory.Ring;

    uint256 internal constant MAX_PRICE = type(uint88).max;

    ObservationHistory.Ring internal ring;

    /// oldestRoundId: 0 for an empty history; otherwise between 1 and count, with at most `capacity`
    /// rounds retained and every round retained while count <= capacity.
    function oldestRoundIdBounds(uint256 capacity, uint256 count) public pure {
        require(capacity > 0);
        uint256 oldest = ObservationHistory.oldestRoundId(capacity, count);
        if (count == 0) {
            assert(oldest == 0);
        } else {
            assert(oldest >= 1 && oldest <= count);
            assert(count - oldest + 1 <= capacity);
            if (count <= capacity) assert(oldest == 1);
            else assert(count - oldest + 1 == capacity);
        }
    }

    /// cumulativeAt is non-decreasing in time and does not overflow for any stored observation.
    function cumulativeAtMonotone(IIndexOracle.Observation memory o, uint256 t1, uint256 t2) public pure {
        require(o.observedAt <= t1 && t1 <= t2 && t2 <= type(uint64).max);
        assert(ObservationHistory.cumulativeAt(o, t1) <= ObservationHistory.cumulativeAt(o, t2));
    }

    /// The documented overflow argument for append: if the previous accumulator is at most
    /// maxPrice x (time since the first round), append's uint120 arithmetic does not overflow (checked on
    /// append itself), and the new accumulator, which equals cumulativeAt(previous, observedAt), keeps the
    /// bound (checked on cumulativeAt: the checker does not support append's struct constructor, so it
    /// cannot see append's return value).
    function appendNoOverflowAndKeepsBound(
        uint256 capacity,
        uint256 previousCount,
        IIndexOracle.Observation memory previous,
        uint32 firstAt,
        uint32 observedAt,
        uint88 priceX18
    ) public {
        require(
            capacity > 0 && previousCount > 0 && firstAt <= previous.observedAt && observedAt > previous.observedAt
        );
        require(uint256(previous.cumulativeX18) <= MAX_PRICE * (previous.observedAt - firstAt));
        // Evaluated before append: the checker forgets a memory struct's fields once it is passed by
        // reference to an internal function, so reading `previous` after the call would see arbitrary values.
        uint256 extended = ObservationHistory.cumulativeAt(previous, observedAt);
        ring.append(capacity, previousCount, previous, observedAt, priceX18, 1);
        assert(extended <= MAX_PRICE * (observedAt - firstAt));
    }

    // Reachability witness (scripts/verify-smt.ts expects its assertion to be VIOLATED): append's domain (the
    // invariant as precondition) is satisfiable with a growing accumulator.
    function reachAppend(
        uint256 capacity,
        uint256 previousCount,
        IIndexOracle.Observation memory previous,
        uint32 firstAt,
        uint32 observedAt,
        uint88 priceX18
    ) public {
        require(
            capacity > 0 && previousCount > 0 && firstAt <= previous.observedAt && observedAt > previous.observedAt
        );
        require(uint256(previous.cumulativeX18) <= MAX_PRICE * (previous.observedAt - firstAt));
        uint256 extended = ObservationHistory.cumulativeAt(previous, observedAt);
        uint256 stored = previous.cumulativeX18;
        ring.append(capacity, previousCount, previous, observedAt, priceX18, 1);
        assert(extended == stored);
    }
}
