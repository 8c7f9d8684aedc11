// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {MarkPrice} from "../../libraries/MarkPrice.sol";
import {PositionMath} from "../../libraries/PositionMath.sol";
import {SeriesSet} from "../../libraries/SeriesSet.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {MarginLogic} from "./MarginLogic.sol";

/// @title TradeLogic
/// @notice Books fills handed over by the matching engine: positions, realized PnL, fees, open
/// interest, the mark's basis sample, and the margin checks of both sides.
library TradeLogic {
    using SafeCast for int256;
    using SafeCast for uint256;

    uint256 internal constant BPS = 10_000;

    /// @dev Everything one fill needs about its series and the market, read once.
    struct TradeContext {
        uint32 seriesId;
        bool paused;
        IClearinghouse.SeriesSpec spec;
        IClearinghouse.RiskParams risk;
        uint256 indexX18;
        uint256 indexObservedAt;
        bool indexStale;
        uint256 markX18;
    }

    /// @dev One side's position before and after a fill.
    struct SideChange {
        int256 oldSize;
        int256 oldOpen;
        int256 newSize;
        int256 newOpen;
        int256 realizedPnlX18;
    }

    /// @dev What one side of a fill did.
    struct SideResult {
        bool raisedRisk;
        int256 longSizeChange;
        int256 maintenanceSurplusChangeX18;
        int256 feeX18;
    }

    /// @notice See `IClearinghouse.applyTrade`.
    function applyTrade(
        S.Layout storage s,
        IIndexOracle oracle,
        IClearinghouse.Fill calldata fill,
        bool paused
    ) external {
        TradeContext memory ctx = _tradeContext(s, oracle, fill);
        ctx.paused = paused;
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

        _updateOpenInterest(s, ctx, maker.longSizeChange + taker.longSizeChange);
        _bookFees(s, fill.seriesId, maker.feeX18 + taker.feeX18);
        _sampleBasis(s, ctx, fill.priceX18);
        emit IClearinghouse.TradeSettled(
            fill.seriesId,
            fill.maker,
            fill.taker,
            fill.takerIsBuy,
            fill.qty,
            fill.priceX18,
            maker.feeX18,
            uint256(taker.feeX18)
        );

        _checkMarginAfterTrade(s, oracle, ctx, fill.maker, maker);
        _checkMarginAfterTrade(s, oracle, ctx, fill.taker, taker);
    }

    function _tradeContext(
        S.Layout storage s,
        IIndexOracle oracle,
        IClearinghouse.Fill calldata fill
    ) private view returns (TradeContext memory ctx) {
        S.SeriesRecord storage record = S.requireSeries(s, fill.seriesId);
        ctx.seriesId = fill.seriesId;
        ctx.spec = record.spec;
        ctx.risk = record.risk;
        if (block.timestamp >= ctx.spec.expiry) revert IClearinghouse.SeriesExpired(fill.seriesId, ctx.spec.expiry);
        if (fill.qty < ctx.spec.minQty) revert IClearinghouse.QtyBelowMinimum(fill.seriesId, fill.qty, ctx.spec.minQty);
        if (fill.priceX18 == 0 || fill.priceX18 % ctx.spec.tickSizeX18 != 0) {
            revert IClearinghouse.PriceNotOnTick(fill.seriesId, fill.priceX18, ctx.spec.tickSizeX18);
        }
        if (fill.maker == address(0) || fill.taker == address(0)) revert IClearinghouse.ZeroAddress();
        if (fill.maker == fill.taker) revert IClearinghouse.SelfTrade(fill.maker);
        (ctx.indexX18, ctx.indexObservedAt, , ctx.indexStale) = oracle.peekLatest(ctx.spec.feedId);
        ctx.markX18 = MarginLogic.mark(
            s,
            oracle,
            fill.seriesId,
            ctx.spec,
            ctx.risk.orderBandBps,
            ctx.indexX18,
            ctx.indexObservedAt
        );
        // The band's floor rounds up and its ceiling down: the band is never wider than stated.
        uint256 minPriceX18 = FixedPointMath.mulDivUp(ctx.markX18, BPS - ctx.risk.orderBandBps, BPS);
        uint256 maxPriceX18 = FixedPointMath.mulDivDown(ctx.markX18, BPS + ctx.risk.orderBandBps, BPS);
        if (fill.priceX18 < minPriceX18 || fill.priceX18 > maxPriceX18) {
            revert IClearinghouse.PriceOutsideBand(fill.seriesId, fill.priceX18, minPriceX18, maxPriceX18);
        }
    }

    function _applySide(
        S.Layout storage s,
        TradeContext memory ctx,
        address account,
        int256 deltaQty,
        uint256 priceX18,
        int256 feeBps,
        uint256 notional
    ) private returns (SideResult memory result) {
        IClearinghouse.Position storage position = s.positions[account][ctx.seriesId];
        SideChange memory change;
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
        result.raisedRisk =
            newAbs > FixedPointMath.abs(change.oldSize) ||
            (change.oldSize > 0 && change.newSize < 0) ||
            (change.oldSize < 0 && change.newSize > 0);
        if (result.raisedRisk) _checkRiskIncreaseAllowed(ctx, account, newAbs);
        result.feeX18 = PositionMath.feeX18(notional, feeBps);
        result.longSizeChange =
            (change.newSize > 0 ? change.newSize : int256(0)) - (change.oldSize > 0 ? change.oldSize : int256(0));
        result.maintenanceSurplusChangeX18 = _maintenanceSurplusChange(ctx, change, result.feeX18);

        position.sizeQty = change.newSize.toInt64();
        position.openNotionalX18 = change.newOpen.toInt192();
        S.Account storage acct = s.accounts[account];
        acct.cashX18 += change.realizedPnlX18 - result.feeX18;
        if (change.oldSize == 0) {
            (uint256 updated, bool ok) = SeriesSet.add(acct.seriesSet, ctx.seriesId);
            if (!ok) revert IClearinghouse.TooManySeries(account, SeriesSet.CAPACITY);
            acct.seriesSet = updated;
        } else if (change.newSize == 0) {
            acct.seriesSet = SeriesSet.remove(acct.seriesSet, ctx.seriesId);
        }
        emit IClearinghouse.PositionChanged(
            account,
            ctx.seriesId,
            change.newSize,
            change.newOpen,
            change.realizedPnlX18
        );
    }

    /// @dev Change of (equity - maintenance margin) of one side at the current mark; exact.
    function _maintenanceSurplusChange(
        TradeContext memory ctx,
        SideChange memory change,
        int256 feeX18
    ) private pure returns (int256) {
        uint256 multiplier = ctx.spec.contractMultiplier;
        int256 equityChange =
            PositionMath.unrealizedPnlX18(change.newSize, change.newOpen, ctx.markX18, multiplier) +
                change.realizedPnlX18 -
                feeX18 -
                PositionMath.unrealizedPnlX18(change.oldSize, change.oldOpen, ctx.markX18, multiplier);
        uint256 mmBefore = PositionMath.requirementX18(
            FixedPointMath.abs(change.oldSize),
            ctx.markX18,
            multiplier,
            ctx.risk.mmBps
        );
        uint256 mmAfter = PositionMath.requirementX18(
            FixedPointMath.abs(change.newSize),
            ctx.markX18,
            multiplier,
            ctx.risk.mmBps
        );
        return equityChange - int256(mmAfter) + int256(mmBefore);
    }

    function _checkRiskIncreaseAllowed(TradeContext memory ctx, address account, uint256 newAbs) private pure {
        if (ctx.paused) revert Pausable.EnforcedPause();
        if (ctx.indexStale) revert IClearinghouse.IndexStale(ctx.seriesId, ctx.indexObservedAt);
        if (newAbs > ctx.risk.positionLimitQty) {
            revert IClearinghouse.PositionLimitExceeded(account, ctx.seriesId, newAbs, ctx.risk.positionLimitQty);
        }
    }

    function _updateOpenInterest(S.Layout storage s, TradeContext memory ctx, int256 change) private {
        if (change == 0) return;
        IClearinghouse.MarketState storage market = s.markets[ctx.seriesId];
        uint256 openInterest = uint256(int256(uint256(market.openInterestQty)) + change);
        if (change > 0 && openInterest > ctx.risk.openInterestCapQty) {
            revert IClearinghouse.OpenInterestCapExceeded(ctx.seriesId, openInterest, ctx.risk.openInterestCapQty);
        }
        market.openInterestQty = openInterest.toUint64();
    }

    function _bookFees(S.Layout storage s, uint32 seriesId, int256 totalFeeX18) private {
        // Non-negative by the fee bounds: |maker rebate bps| <= taker bps, rebates round down, fees up.
        uint256 total = uint256(totalFeeX18);
        // The insurance share rounds down; the fee pool keeps the remainder, so nothing is lost.
        uint256 toInsurance = FixedPointMath.mulDivDown(total, s.insuranceFeeShareBps, BPS);
        s.insuranceFundX18 += toInsurance;
        s.feePoolX18 += total - toInsurance;
        emit IClearinghouse.FeesBooked(seriesId, totalFeeX18, toInsurance);
    }

    function _sampleBasis(S.Layout storage s, TradeContext memory ctx, uint256 priceX18) private {
        IClearinghouse.MarketState storage market = s.markets[ctx.seriesId];
        int256 emaX18 = MarkPrice.basisAt(
            market.basisEmaX18,
            market.lastBasisSampleX18,
            market.lastBasisSampleAt,
            block.timestamp,
            MarginLogic.BASIS_EMA_PERIOD_SEC
        );
        int256 sampleX18 = MarkPrice.clampBasis(
            int256(priceX18) - int256(ctx.indexX18),
            ctx.indexX18,
            ctx.risk.orderBandBps
        );
        market.basisEmaX18 = emaX18.toInt128();
        market.lastBasisSampleX18 = sampleX18.toInt128();
        market.lastBasisSampleAt = uint32(block.timestamp);
        emit IClearinghouse.BasisSampled(ctx.seriesId, sampleX18, emaX18);
    }

    /// @dev A side that raised its risk must end at or above initial margin. A side that only reduced
    /// must end at or above initial margin, or not have lowered its maintenance surplus (so closing
    /// near the mark stays possible even below maintenance margin).
    function _checkMarginAfterTrade(
        S.Layout storage s,
        IIndexOracle oracle,
        TradeContext memory ctx,
        address account,
        SideResult memory side
    ) private view {
        if (!side.raisedRisk && side.maintenanceSurplusChangeX18 >= 0) return;
        // The trade does not move the mark in its own block (see MarkPrice), so the traded series' mark is reused.
        IClearinghouse.AccountHealth memory health = MarginLogic.health(s, oracle, account, ctx.seriesId, ctx.markX18);
        if (health.equityX18 < int256(health.initialMarginX18)) {
            revert IClearinghouse.InsufficientMargin(account, health.equityX18, health.initialMarginX18);
        }
    }
}
