// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {MarkPrice} from "../../libraries/MarkPrice.sol";
import {PositionMath} from "../../libraries/PositionMath.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {MarginLogic} from "./MarginLogic.sol";

/// @title TradeLogic
/// @notice What every fill needs, shared by the order book's matching (`OrderBookLogic`): the series'
/// context at the mark, the price band, positions, open interest, fees, the mark's basis sample and
/// the margin rules. Internal functions only: they are compiled into their callers.
library TradeLogic {
    using SafeCast for int256;
    using SafeCast for uint256;

    uint256 internal constant BPS = 10_000;

    /// @notice Everything a trade needs about its series and the market, read once.
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

    /// @notice One side's position before and after a trade.
    struct SideChange {
        int256 oldSize;
        int256 oldOpen;
        int256 newSize;
        int256 newOpen;
        int256 realizedPnlX18;
    }

    /// @notice The context of a trade in `seriesId` now: spec, risk, latest index and mark. Caches the
    /// series' window average for this oracle round first, so every later mark in it is cheap.
    /// @dev Reverts with `SeriesExpired` at or after expiry.
    function context(
        S.Layout storage s,
        IIndexOracle oracle,
        uint32 seriesId,
        bool paused
    ) internal returns (TradeContext memory ctx) {
        // A listed series has an expiry, so an unlisted id (0 included) is caught by the spec word read
        // below, without reading the series count (one cold storage read less per trade).
        S.SeriesRecord storage record = S.listedOrBlank(s, seriesId);
        ctx.seriesId = seriesId;
        ctx.paused = paused;
        // Every field but the symbol (one storage word less).
        IClearinghouse.SeriesSpec storage spec = record.spec;
        ctx.spec.feedId = spec.feedId;
        ctx.spec.expiry = spec.expiry;
        ctx.spec.averagingWindowSec = spec.averagingWindowSec;
        ctx.spec.methodologyVersion = spec.methodologyVersion;
        ctx.spec.minSettlementRounds = spec.minSettlementRounds;
        ctx.spec.contractMultiplier = spec.contractMultiplier;
        ctx.spec.tickSizeX18 = spec.tickSizeX18;
        ctx.spec.minQty = spec.minQty;
        ctx.risk = record.risk;
        if (ctx.spec.expiry == 0) revert IClearinghouse.UnknownSeries(seriesId);
        // Time rule: no trading at or after expiry.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp >= ctx.spec.expiry) revert IClearinghouse.SeriesExpired(seriesId, ctx.spec.expiry);
        (ctx.indexX18, ctx.indexObservedAt, , ctx.indexStale) = oracle.peekLatest(ctx.spec.feedId);
        // Inside the window, the first trade after each oracle round caches the window average.
        if (
            ctx.indexObservedAt + ctx.spec.averagingWindowSec > ctx.spec.expiry &&
            s.windowAverages[seriesId].observedUntil < ctx.indexObservedAt &&
            s.windowAverages[seriesId].observedUntil < ctx.spec.expiry
        ) {
            MarginLogic.cacheWindowAverage(s, oracle, seriesId, ctx.spec, ctx.indexObservedAt);
        }
        ctx.markX18 = MarginLogic.mark(
            s,
            oracle,
            seriesId,
            ctx.spec,
            ctx.risk.orderBandBps,
            ctx.indexX18,
            ctx.indexObservedAt
        );
    }

    /// @notice The band of fill prices around the mark.
    /// @dev The floor rounds up and the ceiling down: the band is never wider than stated.
    function band(TradeContext memory ctx) internal pure returns (uint256 minPriceX18, uint256 maxPriceX18) {
        minPriceX18 = FixedPointMath.mulDivUp(ctx.markX18, BPS - ctx.risk.orderBandBps, BPS);
        maxPriceX18 = FixedPointMath.mulDivDown(ctx.markX18, BPS + ctx.risk.orderBandBps, BPS);
    }

    /// @notice Long-size change of a position (for open interest, the sum of long sizes).
    function longSizeChange(int256 oldSize, int256 newSize) internal pure returns (int256) {
        return (newSize > 0 ? newSize : int256(0)) - (oldSize > 0 ? oldSize : int256(0));
    }

    /// @notice True when a position change raises risk: larger, or flipped to the other side.
    function raisesRisk(int256 oldSize, int256 newSize) internal pure returns (bool) {
        return
            FixedPointMath.abs(newSize) > FixedPointMath.abs(oldSize) ||
            (oldSize > 0 && newSize < 0) ||
            (oldSize < 0 && newSize > 0);
    }

    /// @notice Change of (equity - maintenance margin) of one side at the current mark; exact.
    function maintenanceSurplusChange(
        TradeContext memory ctx,
        SideChange memory change,
        int256 feeX18
    ) internal pure returns (int256) {
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

    /// @notice Reverts unless a side may raise its risk: no pause, a fresh index, room under the position limit.
    function checkRiskIncreaseAllowed(TradeContext memory ctx, address account, uint256 newAbs) internal pure {
        if (ctx.paused) revert Pausable.EnforcedPause();
        if (ctx.indexStale) revert IClearinghouse.IndexStale(ctx.seriesId, ctx.indexObservedAt);
        if (newAbs > ctx.risk.positionLimitQty) {
            revert IClearinghouse.PositionLimitExceeded(account, ctx.seriesId, newAbs, ctx.risk.positionLimitQty);
        }
    }

    /// @notice Applies a change of open interest; an increase must stay within the cap.
    function updateOpenInterest(S.Layout storage s, TradeContext memory ctx, int256 change) internal {
        if (change == 0) return;
        IClearinghouse.MarketState storage market = s.markets[ctx.seriesId];
        uint256 openInterest = uint256(int256(uint256(market.openInterestQty)) + change);
        if (change > 0 && openInterest > ctx.risk.openInterestCapQty) {
            revert IClearinghouse.OpenInterestCapExceeded(ctx.seriesId, openInterest, ctx.risk.openInterestCapQty);
        }
        market.openInterestQty = openInterest.toUint64();
    }

    /// @notice Books the fees of a trade: the insurance share to the fund, the rest to the fee pool.
    /// @dev No event: every fill's event carries its fees, and the split follows `insuranceFeeShareBps`.
    function bookFees(S.Layout storage s, int256 totalFeeX18) internal returns (uint256 toInsurance) {
        // Non-negative by the fee bounds: |maker rebate bps| <= taker bps, rebates round down, fees up.
        uint256 total = uint256(totalFeeX18);
        // The insurance share rounds down; the fee pool keeps the remainder, so nothing is lost.
        toInsurance = FixedPointMath.mulDivDown(total, s.insuranceFeeShareBps, BPS);
        s.insuranceFundX18 += toInsurance;
        s.feePoolX18 += total - toInsurance;
    }

    /// @notice Samples the traded basis (price - index, clamped to the band) into the mark's EMA.
    function sampleBasis(S.Layout storage s, TradeContext memory ctx, uint256 priceX18) internal {
        IClearinghouse.MarketState storage market = s.markets[ctx.seriesId];
        int256 emaX18 = MarkPrice.basisAt(
            market.basisEmaX18,
            market.lastBasisSampleX18,
            market.lastBasisSampleAt,
            // Time rule: the basis EMA decays with the time since its last sample.
            // solhint-disable-next-line not-rely-on-time
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
        // Time rule: the time of the basis sample.
        // solhint-disable-next-line not-rely-on-time
        market.lastBasisSampleAt = uint32(block.timestamp);
        emit IClearinghouse.BasisSampled(ctx.seriesId, sampleX18, emaX18);
    }

    /// @notice A side that raised its risk must end at or above initial margin (resting orders included).
    /// A side that only reduced must end at or above initial margin, or not have lowered its maintenance
    /// surplus (so closing near the mark stays possible even below maintenance margin).
    function checkMarginAfterTrade(
        S.Layout storage s,
        IIndexOracle oracle,
        TradeContext memory ctx,
        address account,
        bool raisedRisk,
        int256 maintenanceSurplusChangeX18
    ) internal view {
        if (!raisedRisk && maintenanceSurplusChangeX18 >= 0) return;
        // The trade does not move the mark in its own block (see MarkPrice), so the traded series' mark is reused.
        IClearinghouse.AccountHealth memory health = MarginLogic.health(s, oracle, account, ctx.seriesId, ctx.markX18);
        if (health.equityX18 < int256(health.initialMarginX18)) {
            revert IClearinghouse.InsufficientMargin(account, health.equityX18, health.initialMarginX18);
        }
    }
}
