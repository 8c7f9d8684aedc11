// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PositionMath} from "contracts/libraries/PositionMath.sol";

/// @notice SMTChecker harness for PositionMath (mulDiv calls run against models/Math.sol).
/// Domain from the clearinghouse's hard bounds: quantities <= 1e15 (open-interest cap), prices <= 1e24
/// (MAX_PRICE_X18), multipliers <= 1e9, bps <= 1e4; cost bases and notionals up to 1e48 (= 1e15 x 1e24 x 1e9).
contract PositionMathProps {
    uint256 internal constant MAX_QTY = 1e15;
    uint256 internal constant MAX_PRICE = 1e24;
    uint256 internal constant MAX_MULT = 1e9;
    uint256 internal constant BPS = 1e4;
    int256 internal constant MAX_BASIS = 1e48;
    int256 internal constant MIN_BASIS = -1e48;

    function _inDomain(int256 size, int256 basis, uint256 price, uint256 mult) internal pure returns (bool) {
        return
            size >= -int256(MAX_QTY) &&
            size <= int256(MAX_QTY) &&
            basis >= MIN_BASIS &&
            basis <= MAX_BASIS &&
            price <= MAX_PRICE &&
            mult <= MAX_MULT;
    }

    /// notionalX18 does not overflow in the domain.
    function notionalNoOverflow(uint256 qty, uint256 price, uint256 mult) public pure {
        require(qty <= MAX_QTY && price <= MAX_PRICE && mult <= MAX_MULT);
        PositionMath.notionalX18(qty, price, mult);
    }

    /// Unrealized PnL is zero-sum: opposite positions with opposite bases sum to zero at any mark,
    /// and a position marked at its own entry value has zero PnL.
    function unrealizedPnlZeroSum(int256 size, int256 basis, uint256 mark, uint256 mult) public pure {
        require(_inDomain(size, basis, mark, mult));
        int256 pnl = PositionMath.unrealizedPnlX18(size, basis, mark, mult);
        int256 mirrored = PositionMath.unrealizedPnlX18(-size, -basis, mark, mult);
        assert(pnl + mirrored == 0);
        int256 entryBasis = size * int256(mark * mult);
        assert(PositionMath.unrealizedPnlX18(size, entryBasis, mark, mult) == 0);
    }

    /// requirementX18 rounds up: never below |size| x mark x mult x bps / 1e4, and less than one unit above it.
    function requirementNeverUnderstated(uint256 absSize, uint256 mark, uint256 mult, uint256 bps) public pure {
        require(absSize <= MAX_QTY && mark <= MAX_PRICE && mult <= MAX_MULT && bps <= BPS);
        uint256 r = PositionMath.requirementX18(absSize, mark, mult, bps);
        uint256 exact = absSize * mark * mult * bps;
        assert(r * BPS >= exact);
        assert(r * BPS - exact < BPS);
    }

    /// feeX18: a charge (feeBps >= 0) rounds up, a rebate (feeBps < 0) rounds down in magnitude.
    function feeRoundsForTheSystem(uint256 notional, int256 feeBps) public pure {
        require(notional <= 1e48 && feeBps >= -int256(BPS) && feeBps <= int256(BPS));
        int256 fee = PositionMath.feeX18(notional, feeBps);
        int256 exact = int256(notional) * feeBps;
        assert(fee * int256(BPS) >= exact);
        assert(fee * int256(BPS) - exact < int256(BPS));
    }

    /// The documented consequence: a maker rebate never exceeds the taker fee of the same fill
    /// (maker fee bounded below by -takerFee, as SeriesBounds enforces).
    function rebateNeverExceedsTakerFee(uint256 notional, uint256 takerBps, uint256 rebateBps) public pure {
        require(notional <= 1e48 && takerBps <= 100 && rebateBps <= takerBps);
        int256 takerFee = PositionMath.feeX18(notional, int256(takerBps));
        int256 makerFee = PositionMath.feeX18(notional, -int256(rebateBps));
        assert(makerFee <= 0 && takerFee >= 0);
        assert(takerFee + makerFee >= 0);
    }

    /// applyTrade conserves value: the realized PnL plus the new position's unrealized PnL at the trade
    /// price equals the old position's unrealized PnL at that price, in every branch (open, partial close,
    /// full close, flip), so rounding only moves value between realized and unrealized.
    function applyTradeConservesValue(
        int256 size,
        int256 basis,
        int256 delta,
        uint256 price,
        uint256 mult
    ) public pure {
        require(_inDomain(size, basis, price, mult) && delta >= -int256(MAX_QTY) && delta <= int256(MAX_QTY));
        (int256 newSize, int256 newBasis, int256 realized) = PositionMath.applyTrade(size, basis, delta, price, mult);
        assert(newSize == size + delta);
        assert(
            realized + PositionMath.unrealizedPnlX18(newSize, newBasis, price, mult) ==
                PositionMath.unrealizedPnlX18(size, basis, price, mult)
        );
    }

    /// applyTrade's branches: opening realizes nothing; a full close leaves no basis; a flip resets the basis
    /// to the new size at the trade price.
    function applyTradeBranches(int256 size, int256 basis, int256 delta, uint256 price, uint256 mult) public pure {
        require(_inDomain(size, basis, price, mult) && delta >= -int256(MAX_QTY) && delta <= int256(MAX_QTY));
        (int256 newSize, int256 newBasis, int256 realized) = PositionMath.applyTrade(size, basis, delta, price, mult);
        int256 unit = int256(price * mult);
        if (size == 0 || (size > 0) == (delta > 0)) {
            assert(realized == 0 && newBasis == basis + delta * unit);
        } else if (newSize == 0) {
            assert(newBasis == 0);
        } else if ((newSize > 0) != (size > 0)) {
            assert(newBasis == newSize * unit);
        }
    }

    /// A partial close realizes PnL rounded down (against the account), by less than one unit:
    /// with c closed of |size|, realized x |size| <= closeValue x |size| - basis x c < (realized + 1) x |size|.
    function partialCloseRoundsDown(int256 size, int256 basis, int256 delta, uint256 price, uint256 mult) public pure {
        require(_inDomain(size, basis, price, mult) && delta >= -int256(MAX_QTY) && delta <= int256(MAX_QTY));
        require(size != 0 && delta != 0 && (size > 0) != (delta > 0));
        int256 absSize = size > 0 ? size : -size;
        int256 closeQty = delta > 0 ? delta : -delta;
        require(closeQty < absSize);
        (, , int256 realized) = PositionMath.applyTrade(size, basis, delta, price, mult);
        int256 closeValue = (size > 0 ? closeQty : -closeQty) * int256(price * mult);
        int256 exactTimesSize = closeValue * absSize - basis * closeQty;
        assert(realized * absSize <= exactTimesSize);
        assert(exactTimesSize < (realized + 1) * absSize);
    }

    // Reachability witness (scripts/verify-smt.ts expects its assertion to be VIOLATED): the partial-close
    // branch (the one that calls mulDivSignedUp) is reachable in the domain with non-zero realized PnL.
    function reachPartialClose(int256 size, int256 basis, int256 delta, uint256 price, uint256 mult) public pure {
        require(_inDomain(size, basis, price, mult) && delta >= -int256(MAX_QTY) && delta <= int256(MAX_QTY));
        require(size != 0 && delta != 0 && (size > 0) != (delta > 0));
        require((delta > 0 ? delta : -delta) < (size > 0 ? size : -size));
        (, , int256 realized) = PositionMath.applyTrade(size, basis, delta, price, mult);
        assert(realized == 0);
    }
}
