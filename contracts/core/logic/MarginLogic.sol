// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {MarkPrice} from "../../libraries/MarkPrice.sol";
import {PositionMath} from "../../libraries/PositionMath.sol";
import {SeriesSet} from "../../libraries/SeriesSet.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";

/// @title MarginLogic
/// @notice Marks and account health of the clearinghouse (stateless; runs over its storage).
library MarginLogic {
    /// @notice Period of the mark's basis EMA.
    uint256 internal constant BASIS_EMA_PERIOD_SEC = 30 minutes;

    /// @notice Margin of `account` at the current marks (settlement prices for final series).
    /// @param knownSeriesId A series whose mark the caller already computed in this block (0 for none).
    /// @param knownMarkX18 That mark; it saves reading the oracle again for the series just traded.
    function health(
        S.Layout storage s,
        IIndexOracle oracle,
        address account,
        uint32 knownSeriesId,
        uint256 knownMarkX18
    ) external view returns (IClearinghouse.AccountHealth memory result) {
        S.Account storage acct = s.accounts[account];
        result.cashX18 = acct.cashX18;
        uint256 set = acct.seriesSet;
        for (uint256 lane = 0; lane < SeriesSet.CAPACITY; ++lane) {
            uint32 seriesId = uint32(set >> (32 * lane));
            if (seriesId == 0) continue;
            uint256 markX18 = seriesId == knownSeriesId ? knownMarkX18 : valuationMark(s, oracle, seriesId);
            _addSeries(s, result, account, seriesId, markX18);
        }
        result.equityX18 = result.cashX18 + result.unrealizedPnlX18;
        int256 free = result.equityX18 - int256(result.initialMarginX18);
        if (free > result.cashX18) free = result.cashX18;
        result.withdrawableX18 = free > 0 ? uint256(free) : 0;
    }

    /// @notice The price positions of a series are valued at: the settlement price once final, else the mark.
    function valuationMark(S.Layout storage s, IIndexOracle oracle, uint32 seriesId) public view returns (uint256) {
        IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
        if (S.effectiveStatus(settlement) == IClearinghouse.SettlementStatus.Final) return settlement.priceX18;
        S.SeriesRecord storage record = s.series[seriesId];
        IClearinghouse.SeriesSpec memory spec = record.spec;
        (uint256 indexX18, uint256 observedAt, , ) = oracle.peekLatest(spec.feedId);
        return mark(s, oracle, seriesId, spec, record.risk.orderBandBps, indexX18, observedAt);
    }

    /// @notice The mark of a series given the latest index and its observation time.
    /// @dev index + clamped basis EMA; inside the averaging window the accepted rounds observed so far
    /// are fixed. If the oracle cannot average them (a history or methodology boundary) the mark falls
    /// back to index + basis rather than blocking every action on the account.
    function mark(
        S.Layout storage s,
        IIndexOracle oracle,
        uint32 seriesId,
        IClearinghouse.SeriesSpec memory spec,
        uint256 bandBps,
        uint256 indexX18,
        uint256 observedAt
    ) public view returns (uint256) {
        IClearinghouse.MarketState memory market = s.markets[seriesId];
        int256 basisX18 = MarkPrice.clampBasis(
            MarkPrice.basisAt(
                market.basisEmaX18,
                market.lastBasisSampleX18,
                market.lastBasisSampleAt,
                // Time rule: the basis EMA decays with the time since its last sample.
                // solhint-disable-next-line not-rely-on-time
                block.timestamp,
                BASIS_EMA_PERIOD_SEC
            ),
            indexX18,
            bandBps
        );
        uint256 windowStart = uint256(spec.expiry) - spec.averagingWindowSec;
        uint256 observedUntil = observedAt < spec.expiry ? observedAt : spec.expiry;
        uint256 observedAvgX18 = 0;
        if (observedUntil > windowStart) {
            S.WindowAverage memory cached = s.windowAverages[seriesId];
            observedAvgX18 =
                cached.observedUntil == observedUntil
                    ? cached.averageX18
                    : windowAverage(oracle, spec.feedId, windowStart, observedUntil);
            if (observedAvgX18 == 0) observedUntil = windowStart;
        }
        return MarkPrice.markFrom(indexX18, basisX18, windowStart, spec.expiry, observedUntil, observedAvgX18);
    }

    /// @notice Stores the window average of a series up to its latest oracle round, so later marks in
    /// the same round read one word instead of averaging the oracle's history again.
    /// @param observedAt Observation time of the latest accepted index round.
    function cacheWindowAverage(
        S.Layout storage s,
        IIndexOracle oracle,
        uint32 seriesId,
        IClearinghouse.SeriesSpec memory spec,
        uint256 observedAt
    ) external {
        uint256 windowStart = uint256(spec.expiry) - spec.averagingWindowSec;
        uint256 observedUntil = observedAt < spec.expiry ? observedAt : spec.expiry;
        if (observedUntil <= windowStart || s.windowAverages[seriesId].observedUntil == observedUntil) return;
        s.windowAverages[seriesId] = S.WindowAverage({
            observedUntil: uint64(observedUntil),
            averageX18: uint192(windowAverage(oracle, spec.feedId, windowStart, observedUntil))
        });
    }

    /// @notice The oracle TWAP over [windowStart, observedUntil], or 0 when the oracle cannot average
    /// it (a history or methodology boundary); the mark then falls back to index + basis.
    function windowAverage(
        IIndexOracle oracle,
        bytes32 feedId,
        uint256 windowStart,
        uint256 observedUntil
    ) internal view returns (uint256) {
        try oracle.twap(feedId, windowStart, observedUntil) returns (uint256 twapX18) {
            return twapX18;
        } catch {
            return 0;
        }
    }

    function _addSeries(
        S.Layout storage s,
        IClearinghouse.AccountHealth memory result,
        address account,
        uint32 seriesId,
        uint256 markX18
    ) private view {
        S.SeriesRecord storage record = s.series[seriesId];
        uint256 multiplier = record.spec.contractMultiplier;
        IClearinghouse.Position memory position = s.positions[account][seriesId];
        uint256 absSize = FixedPointMath.abs(position.sizeQty);
        int256 pnlX18 = PositionMath.unrealizedPnlX18(position.sizeQty, position.openNotionalX18, markX18, multiplier);
        uint256 imX18 = PositionMath.requirementX18(absSize, markX18, multiplier, record.risk.imBps);
        result.unrealizedPnlX18 += pnlX18;
        result.initialMarginX18 += imX18;
        result.maintenanceMarginX18 += PositionMath.requirementX18(absSize, markX18, multiplier, record.risk.mmBps);
        // Resting orders of an expired series are void and reserve nothing.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp >= record.spec.expiry) return;
        S.Exposure memory exposure = s.exposures[account][seriesId];
        if (exposure.buyQty == 0 && exposure.sellQty == 0) return;
        uint256 orderMarginX18 = orderMargin(
            position,
            exposure,
            markX18,
            multiplier,
            record.spec.tickSizeX18,
            record.risk.imBps,
            pnlX18 - int256(imX18)
        );
        result.initialMarginX18 += orderMarginX18;
        result.orderMarginX18 += orderMarginX18;
    }

    /// @notice Initial margin reserved for resting orders: how far (PnL - initial margin) of the series
    /// falls, at the mark, in the worst of three cases beyond the current one: all bids filled at their
    /// prices, all asks filled, or both. Mirrored by `orderMargin` in `sdk/core/margin.ts`.
    /// @param multiplier The series' contract multiplier.
    /// @param tickSizeX18 The series' tick size.
    /// @param surplusX18 PnL - initial margin of the position as it is.
    function orderMargin(
        IClearinghouse.Position memory position,
        S.Exposure memory exposure,
        uint256 markX18,
        uint256 multiplier,
        uint256 tickSizeX18,
        uint256 imBps,
        int256 surplusX18
    ) internal pure returns (uint256) {
        int256 buyNotionalX18 = int256(uint256(exposure.buyTickQty) * tickSizeX18 * multiplier);
        int256 sellNotionalX18 = int256(uint256(exposure.sellTickQty) * tickSizeX18 * multiplier);
        int256 buyQty = int256(uint256(exposure.buyQty));
        int256 sellQty = int256(uint256(exposure.sellQty));
        int256 worstX18 = surplusX18;
        int256 caseX18 = _surplus(position, buyQty, buyNotionalX18, markX18, multiplier, imBps);
        if (caseX18 < worstX18) worstX18 = caseX18;
        caseX18 = _surplus(position, -sellQty, -sellNotionalX18, markX18, multiplier, imBps);
        if (caseX18 < worstX18) worstX18 = caseX18;
        caseX18 = _surplus(position, buyQty - sellQty, buyNotionalX18 - sellNotionalX18, markX18, multiplier, imBps);
        if (caseX18 < worstX18) worstX18 = caseX18;
        return uint256(surplusX18 - worstX18);
    }

    /// @dev PnL - initial margin at the mark after adding `deltaQty` contracts bought for `deltaNotionalX18`.
    function _surplus(
        IClearinghouse.Position memory position,
        int256 deltaQty,
        int256 deltaNotionalX18,
        uint256 markX18,
        uint256 multiplier,
        uint256 imBps
    ) private pure returns (int256) {
        int256 sizeQty = position.sizeQty + deltaQty;
        int256 pnlX18 = PositionMath.unrealizedPnlX18(
            sizeQty,
            position.openNotionalX18 + deltaNotionalX18,
            markX18,
            multiplier
        );
        return pnlX18 - int256(PositionMath.requirementX18(FixedPointMath.abs(sizeQty), markX18, multiplier, imBps));
    }
}
