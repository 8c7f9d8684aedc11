// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMath} from "./FixedPointMath.sol";

/// @title PositionMath
/// @notice Positions, PnL and margin requirements of one series, in USD 18-decimal fixed point.
/// @dev A position is a signed size and a signed cost basis (`openNotionalX18`, = size x average
/// entry price x multiplier). Unrealized PnL at a mark = size x mark x multiplier - cost basis, exact.
/// Mirrored name for name by `sdk/core/position.ts`.
library PositionMath {
    using FixedPointMath for int256;

    /// @notice Basis points in one whole.
    uint256 internal constant BPS = 10_000;

    /// @notice Notional of `qty` contracts at `priceX18`: qty x price x multiplier, exact.
    function notionalX18(uint256 qty, uint256 priceX18, uint256 multiplier) internal pure returns (uint256) {
        return qty * priceX18 * multiplier;
    }

    /// @notice Unrealized PnL of a position at `markX18`: size x mark x multiplier - cost basis, exact.
    function unrealizedPnlX18(
        int256 sizeQty,
        int256 openNotionalX18,
        uint256 markX18,
        uint256 multiplier
    ) internal pure returns (int256) {
        return sizeQty * int256(markX18 * multiplier) - openNotionalX18;
    }

    /// @notice A margin requirement: |size| x mark x multiplier x bps / 10,000.
    /// @dev Rounds up: a requirement is never understated (favours the system).
    function requirementX18(
        uint256 absSizeQty,
        uint256 markX18,
        uint256 multiplier,
        uint256 bps
    ) internal pure returns (uint256) {
        return FixedPointMath.mulDivUp(absSizeQty * markX18 * multiplier, bps, BPS);
    }

    /// @notice A fee of `feeBps` on `notional`.
    /// @dev Charges (feeBps >= 0) round up and rebates (feeBps < 0) round down in magnitude: both favour
    /// the system, so a rebate never exceeds the taker fee of the same fill.
    function feeX18(uint256 notional, int256 feeBps) internal pure returns (int256) {
        if (feeBps >= 0) return int256(FixedPointMath.mulDivUp(notional, uint256(feeBps), BPS));
        return -int256(FixedPointMath.mulDivDown(notional, uint256(-feeBps), BPS));
    }

    /// @notice The position after trading `deltaQty` contracts (positive buys) at `priceX18`.
    /// @dev The part that closes existing size realizes PnL against a pro-rata share of the cost basis;
    /// that share rounds toward +infinity, so realized PnL rounds down (against the account). The
    /// remaining basis absorbs the difference: the account's total PnL over the position's life is exact.
    /// @return newSizeQty Size after the trade.
    /// @return newOpenNotionalX18 Cost basis after the trade.
    /// @return realizedPnlX18 PnL realized into cash by the closing part (0 when only opening).
    function applyTrade(
        int256 sizeQty,
        int256 openNotionalX18,
        int256 deltaQty,
        uint256 priceX18,
        uint256 multiplier
    ) internal pure returns (int256 newSizeQty, int256 newOpenNotionalX18, int256 realizedPnlX18) {
        int256 unitNotional = int256(priceX18 * multiplier);
        newSizeQty = sizeQty + deltaQty;
        if (sizeQty == 0 || (sizeQty > 0) == (deltaQty > 0)) {
            return (newSizeQty, openNotionalX18 + deltaQty * unitNotional, 0);
        }
        uint256 absSize = FixedPointMath.abs(sizeQty);
        uint256 absDelta = FixedPointMath.abs(deltaQty);
        uint256 closeQty = absDelta < absSize ? absDelta : absSize;
        // @dev Rounds the removed basis toward +infinity: realized PnL rounds down (favours the system).
        int256 removedBasis = closeQty == absSize ? openNotionalX18 : openNotionalX18.mulDivSignedUp(closeQty, absSize);
        int256 closeValue = sizeQty > 0 ? int256(closeQty) * unitNotional : -int256(closeQty) * unitNotional;
        realizedPnlX18 = closeValue - removedBasis;
        newOpenNotionalX18 = absDelta > absSize ? newSizeQty * unitNotional : openNotionalX18 - removedBasis;
    }
}
