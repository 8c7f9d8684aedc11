// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BpsMath
/// @notice Comparisons of values in basis points (1 bp = 1/10,000), without rounding.
library BpsMath {
    /// @notice Basis points in one whole.
    uint256 internal constant BPS = 10_000;

    /// @notice True when `value` differs from `referenceValue` by more than `limitBps` of `referenceValue`.
    /// @dev Exact: compares |value - referenceValue| * 10,000 with limitBps * referenceValue, so a move of
    /// exactly `limitBps` is within the limit and one unit more is not. Inputs must be small
    /// enough for the products to fit (prices up to 1e24 and bps up to 1e4 leave ample room).
    /// @param referenceValue The value compared against.
    /// @param value The value compared with it.
    /// @param limitBps The allowed deviation in basis points of `referenceValue`.
    /// @return exceeded True when the deviation is strictly larger than the limit.
    function deviationExceeds(
        uint256 referenceValue,
        uint256 value,
        uint256 limitBps
    ) internal pure returns (bool exceeded) {
        uint256 diff = value > referenceValue ? value - referenceValue : referenceValue - value;
        return diff * BPS > limitBps * referenceValue;
    }
}
