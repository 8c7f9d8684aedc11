// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIndexOracle} from "../interfaces/IIndexOracle.sol";
import {BpsMath} from "../libraries/BpsMath.sol";
import {Median} from "../libraries/Median.sol";
import {ObservationHistory} from "../libraries/ObservationHistory.sol";

/// @title OracleMathHarness
/// @notice Test-only: exposes the oracle's libraries, with a ring of any capacity so that
/// wrap-around is testable in a few rounds. Never deployed outside tests.
contract OracleMathHarness {
    using ObservationHistory for ObservationHistory.Ring;

    uint256 public immutable capacity;
    uint256 public count;
    ObservationHistory.Ring internal _ring;
    IIndexOracle.Observation internal _last;

    constructor(uint256 capacity_) {
        capacity = capacity_;
    }

    function median(uint256[] memory values) external pure returns (uint256) {
        return Median.sortAndMedian(values);
    }

    function deviationExceeds(uint256 referenceValue, uint256 value, uint256 limitBps) external pure returns (bool) {
        return BpsMath.deviationExceeds(referenceValue, value, limitBps);
    }

    function append(uint32 observedAt, uint88 priceX18) external {
        _last = _ring.append(capacity, count, _last, observedAt, priceX18, 1);
        ++count;
    }

    function lastAtOrBefore(
        uint256 time
    ) external view returns (uint256 roundId, IIndexOracle.Observation memory observation) {
        return _ring.lastAtOrBefore(capacity, count, time);
    }

    function oldestRoundId() external view returns (uint256) {
        return ObservationHistory.oldestRoundId(capacity, count);
    }

    /// @notice TWAP computed the oracle's way, for differential tests of the ring alone.
    function twap(uint256 fromTime, uint256 toTime) external view returns (uint256) {
        (uint256 fromId, IIndexOracle.Observation memory atFrom) = _ring.lastAtOrBefore(capacity, count, fromTime);
        (uint256 toId, IIndexOracle.Observation memory atTo) = _ring.lastAtOrBefore(capacity, count, toTime);
        require(fromId != 0 && toId != 0, "outside history");
        uint256 area =
            ObservationHistory.cumulativeAt(atTo, toTime) - ObservationHistory.cumulativeAt(atFrom, fromTime);
        return area / (toTime - fromTime);
    }
}
