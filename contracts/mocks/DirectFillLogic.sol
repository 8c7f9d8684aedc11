// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearinghouse} from "../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../interfaces/IIndexOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {PositionMath} from "../libraries/PositionMath.sol";
import {ClearinghouseStorage as S} from "../core/ClearinghouseStorage.sol";
import {TradeLogic} from "../core/logic/TradeLogic.sol";

/// @title IDirectFills
/// @notice Test-only: a fill booked straight into the clearinghouse, without an order book. The
/// clearinghouse's unit tests use it to reach every margin rule of one fill with exact inputs.
interface IDirectFills {
    /// @notice A matched trade.
    struct Fill {
        uint32 seriesId;
        address maker;
        address taker;
        bool takerIsBuy;
        uint64 qty;
        uint256 priceX18;
    }

    /// @notice Thrown when a fill's price is not a positive multiple of the tick.
    error PriceNotOnTick(uint32 seriesId, uint256 priceX18, uint256 tickSizeX18);
    /// @notice Thrown when both sides of a fill are one account.
    error SelfTrade(address account);

    /// @notice Emitted for every direct fill.
    event TradeSettled(
        uint32 indexed seriesId,
        address indexed maker,
        address indexed taker,
        bool takerIsBuy,
        uint256 qty,
        uint256 priceX18,
        int256 makerFeeX18,
        uint256 takerFeeX18
    );
    /// @notice Emitted when a direct fill books its fees.
    event FeesBooked(uint32 indexed seriesId, int256 totalFeeX18, uint256 toInsuranceX18);
    /// @notice Emitted when a direct fill changes a position.
    event PositionChanged(
        address indexed account,
        uint32 indexed seriesId,
        int256 sizeQty,
        int256 openNotionalX18,
        int256 realizedPnlX18
    );

    /// @notice Books `fill` with the margin checks of both sides.
    function applyTrade(Fill calldata fill) external;
}

/// @title DirectFillLogic
/// @notice Test-only: books one fill with both sides margin-checked, over the clearinghouse's storage
/// and with the same primitives as the order book (`TradeLogic`).
library DirectFillLogic {
    using SafeCast for int256;

    /// @notice See `IDirectFills.applyTrade`.
    function applyTrade(
        S.Layout storage s,
        IIndexOracle oracle,
        IDirectFills.Fill calldata fill,
        bool paused
    ) external {
        TradeLogic.TradeContext memory ctx = TradeLogic.context(s, oracle, fill.seriesId, paused);
        _checkFill(ctx, fill);
        S.settleFinalSeries(s, fill.maker);
        S.settleFinalSeries(s, fill.taker);
        int256 takerDelta = fill.takerIsBuy ? int256(uint256(fill.qty)) : -int256(uint256(fill.qty));
        uint256 notional = PositionMath.notionalX18(fill.qty, fill.priceX18, ctx.spec.contractMultiplier);
        SideResult memory maker = _applySide(
            s,
            ctx,
            fill.maker,
            -takerDelta,
            fill.priceX18,
            ctx.risk.makerFeeBps,
            notional
        );
        SideResult memory taker = _applySide(
            s,
            ctx,
            fill.taker,
            takerDelta,
            fill.priceX18,
            int256(uint256(ctx.risk.takerFeeBps)),
            notional
        );
        TradeLogic.updateOpenInterest(s, ctx, maker.longSizeChange + taker.longSizeChange);
        uint256 toInsurance = TradeLogic.bookFees(s, maker.feeX18 + taker.feeX18);
        emit IDirectFills.FeesBooked(fill.seriesId, maker.feeX18 + taker.feeX18, toInsurance);
        TradeLogic.sampleBasis(s, ctx, fill.priceX18);
        emit IDirectFills.TradeSettled(
            fill.seriesId,
            fill.maker,
            fill.taker,
            fill.takerIsBuy,
            fill.qty,
            fill.priceX18,
            maker.feeX18,
            uint256(taker.feeX18)
        );
        TradeLogic.checkMarginAfterTrade(
            s,
            oracle,
            ctx,
            fill.maker,
            maker.raisedRisk,
            maker.maintenanceSurplusChangeX18
        );
        TradeLogic.checkMarginAfterTrade(
            s,
            oracle,
            ctx,
            fill.taker,
            taker.raisedRisk,
            taker.maintenanceSurplusChangeX18
        );
    }

    function _checkFill(TradeLogic.TradeContext memory ctx, IDirectFills.Fill calldata fill) private pure {
        if (fill.qty < ctx.spec.minQty) revert IClearinghouse.QtyBelowMinimum(fill.seriesId, fill.qty, ctx.spec.minQty);
        if (fill.priceX18 == 0 || fill.priceX18 % ctx.spec.tickSizeX18 != 0) {
            revert IDirectFills.PriceNotOnTick(fill.seriesId, fill.priceX18, ctx.spec.tickSizeX18);
        }
        if (fill.maker == address(0) || fill.taker == address(0)) revert IClearinghouse.ZeroAddress();
        if (fill.maker == fill.taker) revert IDirectFills.SelfTrade(fill.maker);
        (uint256 minPriceX18, uint256 maxPriceX18) = TradeLogic.band(ctx);
        if (fill.priceX18 < minPriceX18 || fill.priceX18 > maxPriceX18) {
            revert IClearinghouse.PriceOutsideBand(fill.seriesId, fill.priceX18, minPriceX18, maxPriceX18);
        }
    }

    /// @dev What one side of a fill did.
    struct SideResult {
        bool raisedRisk;
        int256 longSizeChange;
        int256 maintenanceSurplusChangeX18;
        int256 feeX18;
    }

    /// @dev Applies one side of a fill to `account`'s stored position and cash, with the risk checks
    /// of a side that raises its risk (pause, stale index, position limit).
    function _applySide(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        address account,
        int256 deltaQty,
        uint256 priceX18,
        int256 feeBps,
        uint256 notional
    ) private returns (SideResult memory result) {
        IClearinghouse.Position storage position = s.positions[account][ctx.seriesId];
        TradeLogic.SideChange memory change;
        change.oldSize = position.sizeQty;
        change.oldOpen = position.openNotionalX18;
        (change.newSize, change.newOpen, change.realizedPnlX18) = PositionMath.applyTrade(
            change.oldSize,
            change.oldOpen,
            deltaQty,
            priceX18,
            ctx.spec.contractMultiplier
        );
        uint256 newAbs = FixedPointMath.abs(change.newSize);
        result.raisedRisk = TradeLogic.raisesRisk(change.oldSize, change.newSize);
        if (result.raisedRisk) TradeLogic.checkRiskIncreaseAllowed(ctx, account, newAbs);
        result.feeX18 = PositionMath.feeX18(notional, feeBps);
        result.longSizeChange = TradeLogic.longSizeChange(change.oldSize, change.newSize);
        result.maintenanceSurplusChangeX18 = TradeLogic.maintenanceSurplusChange(ctx, change, result.feeX18);

        position.sizeQty = change.newSize.toInt64();
        position.openNotionalX18 = change.newOpen.toInt192();
        S.Account storage acct = s.accounts[account];
        acct.cashX18 += change.realizedPnlX18 - result.feeX18;
        if (change.oldSize == 0) {
            S.joinSeries(s, account, ctx.seriesId);
        } else if (change.newSize == 0) {
            S.leaveSeriesIfIdle(s, account, ctx.seriesId);
        }
        emit IDirectFills.PositionChanged(account, ctx.seriesId, change.newSize, change.newOpen, change.realizedPnlX18);
    }
}
