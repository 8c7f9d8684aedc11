// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarkPrice} from "../libraries/MarkPrice.sol";
import {PositionMath} from "../libraries/PositionMath.sol";
import {SeriesSet} from "../libraries/SeriesSet.sol";

/// @notice Exposes the clearinghouse's pure libraries for differential tests against `sdk/core`.
contract ClearinghouseMathHarness {
    function applyTrade(
        int256 sizeQty,
        int256 openNotionalX18,
        int256 deltaQty,
        uint256 priceX18,
        uint256 multiplier
    ) external pure returns (int256, int256, int256) {
        return PositionMath.applyTrade(sizeQty, openNotionalX18, deltaQty, priceX18, multiplier);
    }

    function requirementX18(
        uint256 absSize,
        uint256 markX18,
        uint256 multiplier,
        uint256 bps
    ) external pure returns (uint256) {
        return PositionMath.requirementX18(absSize, markX18, multiplier, bps);
    }

    function feeX18(uint256 notional, int256 feeBps) external pure returns (int256) {
        return PositionMath.feeX18(notional, feeBps);
    }

    function basisAt(
        int256 emaX18,
        int256 lastSampleX18,
        uint256 lastSampleAt,
        uint256 nowSec,
        uint256 periodSec
    ) external pure returns (int256) {
        return MarkPrice.basisAt(emaX18, lastSampleX18, lastSampleAt, nowSec, periodSec);
    }

    function clampBasis(int256 basisX18, uint256 indexX18, uint256 bandBps) external pure returns (int256) {
        return MarkPrice.clampBasis(basisX18, indexX18, bandBps);
    }

    function markFrom(
        uint256 indexX18,
        int256 basisX18,
        uint256 windowStart,
        uint256 expiry,
        uint256 observedUntil,
        uint256 observedAvgX18
    ) external pure returns (uint256) {
        return MarkPrice.markFrom(indexX18, basisX18, windowStart, expiry, observedUntil, observedAvgX18);
    }

    function setAdd(uint256 set, uint32 id) external pure returns (uint256, bool) {
        return SeriesSet.add(set, id);
    }

    function setRemove(uint256 set, uint32 id) external pure returns (uint256) {
        return SeriesSet.remove(set, id);
    }

    function setToArray(uint256 set) external pure returns (uint32[] memory) {
        return SeriesSet.toArray(set);
    }
}
