// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Math (SMT model of the subset of OpenZeppelin's Math that tokenpit's libraries call)
/// @notice Served by scripts/verify-smt.ts in place of `@openzeppelin/contracts/utils/math/Math.sol` for the
/// harnesses marked `mathModel`, because the SMTChecker does not model inline assembly: OpenZeppelin's
/// `mul512` computes the 512-bit product in assembly, so the checker sees its result as unconstrained.
/// @dev Model domain: x * y < 2^256. There OpenZeppelin's `mul512` yields high == 0 and low == x * y, and
/// `mulDiv` returns `low / denominator` (its first branch), exactly as below; the ceiling variant adds
/// `mulmod(x, y, denominator) > 0`. The checked `x * y` below makes the checker prove that every harness stays
/// inside the model domain: an overflow target here that is not proved safe means the model does not apply.
library Math {
    enum Rounding {
        Floor,
        Ceil,
        Trunc,
        Expand
    }

    function mulDiv(uint256 x, uint256 y, uint256 denominator) internal pure returns (uint256) {
        return (x * y) / denominator;
    }

    function mulDiv(uint256 x, uint256 y, uint256 denominator, Rounding rounding) internal pure returns (uint256) {
        return mulDiv(x, y, denominator) + (unsignedRoundsUp(rounding) && mulmod(x, y, denominator) > 0 ? 1 : 0);
    }

    function unsignedRoundsUp(Rounding rounding) internal pure returns (bool) {
        return uint8(rounding) % 2 == 1;
    }
}
