// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title FixedPointMath
/// @notice Multiply-divide with the rounding direction in the name. The only place where money
/// math divides; every call site states in a comment whom its rounding favours.
library FixedPointMath {
    /// @notice floor(a x b / denominator) in full 512-bit precision.
    /// @dev Reverts when the denominator is 0 or the result overflows.
    function mulDivDown(uint256 a, uint256 b, uint256 denominator) internal pure returns (uint256) {
        return Math.mulDiv(a, b, denominator);
    }

    /// @notice ceil(a x b / denominator) in full 512-bit precision.
    /// @dev Reverts when the denominator is 0 or the result overflows.
    function mulDivUp(uint256 a, uint256 b, uint256 denominator) internal pure returns (uint256) {
        return Math.mulDiv(a, b, denominator, Math.Rounding.Ceil);
    }

    /// @notice a x b / denominator for signed `a`, rounded toward positive infinity.
    /// @dev |a x b| must fit in uint256 (callers pass cost bases and quantities far below that).
    function mulDivSignedUp(int256 a, uint256 b, uint256 denominator) internal pure returns (int256) {
        uint256 magnitude = a >= 0 ? uint256(a) : uint256(-a);
        // Toward +infinity: ceil of the magnitude for positives, floor of the magnitude for negatives.
        return
            a >= 0
                ? int256(Math.mulDiv(magnitude, b, denominator, Math.Rounding.Ceil))
                : -int256(Math.mulDiv(magnitude, b, denominator));
    }

    /// @notice a x b / denominator for signed `a`, rounded toward zero (the EVM's and bigint's integer division).
    function mulDivSignedTowardZero(int256 a, uint256 b, uint256 denominator) internal pure returns (int256) {
        uint256 magnitude = a >= 0 ? uint256(a) : uint256(-a);
        int256 result = int256(Math.mulDiv(magnitude, b, denominator));
        return a >= 0 ? result : -result;
    }

    /// @notice |a| as uint256.
    function abs(int256 a) internal pure returns (uint256) {
        return a >= 0 ? uint256(a) : uint256(-a);
    }
}
