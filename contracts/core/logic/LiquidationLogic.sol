// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {ILiquidation} from "../../interfaces/ILiquidation.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {PositionMath} from "../../libraries/PositionMath.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {MarginLogic} from "./MarginLogic.sol";
import {PositionTransfer} from "./PositionTransfer.sol";
import {TradeLogic} from "./TradeLogic.sol";

/// @title LiquidationLogic
/// @notice Liquidation of accounts below maintenance margin (see `ILiquidation`). Stateless; runs
/// over the clearinghouse's storage.
library LiquidationLogic {
    /// @notice Positions whose notional at the mark is at most this (USD) are liquidated whole.
    uint256 internal constant SMALL_POSITION_NOTIONAL_X18 = 10_000e18;
    /// @notice The liquidator's share of the penalty, bps; the insurance fund receives the rest.
    uint256 internal constant LIQUIDATOR_PENALTY_SHARE_BPS = 5_000;

    uint256 internal constant BPS = 10_000;

    /// @notice Why a liquidation request cannot be carried out.
    enum Refusal {
        None,
        SeriesExpired,
        IndexStale,
        NoPosition,
        Healthy,
        QtyTooSmall,
        FundShort
    }

    /// @notice A liquidation worked out before any state changes.
    struct Plan {
        Refusal refusal;
        address account;
        int256 sizeQty;
        uint256 qty;
        uint256 requiredQty;
        uint256 maxQty;
        int256 equityX18;
        uint256 maintenanceMarginX18;
        uint256 penaltyX18;
        uint256 deficitX18;
    }

    /// @notice See `ILiquidation.liquidate`.
    function liquidate(
        S.Layout storage s,
        IIndexOracle oracle,
        address account,
        uint32 seriesId,
        uint256 maxQty
    ) external returns (uint256) {
        if (account == msg.sender) revert ILiquidation.SelfLiquidation(account);
        // A listed series has an expiry in the future of its listing; reading it here warms the slot `_plan` reads.
        if (s.series[seriesId].spec.expiry == 0) revert IClearinghouse.UnknownSeries(seriesId);
        (TradeLogic.TradeContext memory ctx, Plan memory plan) = _plan(s, oracle, account, seriesId, maxQty);
        if (plan.refusal != Refusal.None) _revert(s, ctx, plan);
        _execute(s, ctx, plan);
        _checkLiquidatorMargin(s, oracle, seriesId, ctx.markX18);
        return plan.qty;
    }

    /// @notice See `ILiquidation.liquidateBatch`.
    function liquidateBatch(
        S.Layout storage s,
        IIndexOracle oracle,
        ILiquidation.LiquidationRequest[] calldata requests
    ) external returns (uint256 liquidatedCount) {
        uint32 lastSeriesId = 0;
        uint256 lastMarkX18 = 0;
        for (uint256 i = 0; i < requests.length; ++i) {
            ILiquidation.LiquidationRequest calldata request = requests[i];
            if (request.account == msg.sender || request.seriesId == 0 || request.seriesId > s.seriesCount) continue;
            (TradeLogic.TradeContext memory ctx, Plan memory plan) = _plan(
                s,
                oracle,
                request.account,
                request.seriesId,
                request.maxQty
            );
            if (plan.refusal != Refusal.None) continue;
            _execute(s, ctx, plan);
            ++liquidatedCount;
            (lastSeriesId, lastMarkX18) = (request.seriesId, ctx.markX18);
        }
        if (liquidatedCount != 0) _checkLiquidatorMargin(s, oracle, lastSeriesId, lastMarkX18);
    }

    // ---------------------------------------------------------------------------------------
    // Planning (no state changes but the window-average cache and lazy settlement)
    // ---------------------------------------------------------------------------------------

    /// @dev Works out whether and how much of `account`'s position in `seriesId` is liquidated.
    function _plan(
        S.Layout storage s,
        IIndexOracle oracle,
        address account,
        uint32 seriesId,
        uint256 maxQty
    ) private returns (TradeLogic.TradeContext memory ctx, Plan memory plan) {
        plan.account = account;
        plan.maxQty = maxQty;
        ctx.seriesId = seriesId;
        // Time rule: an expired series is settled, not liquidated.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp >= s.series[seriesId].spec.expiry) {
            plan.refusal = Refusal.SeriesExpired;
            return (ctx, plan);
        }
        S.settleFinalSeries(s, account);
        plan.sizeQty = s.positions[account][seriesId].sizeQty;
        if (plan.sizeQty == 0) {
            plan.refusal = Refusal.NoPosition;
            return (ctx, plan);
        }
        ctx = TradeLogic.context(s, oracle, seriesId, false);
        if (ctx.indexStale) {
            plan.refusal = Refusal.IndexStale;
            return (ctx, plan);
        }
        IClearinghouse.AccountHealth memory health = MarginLogic.health(s, oracle, account, seriesId, ctx.markX18);
        plan.equityX18 = health.equityX18;
        plan.maintenanceMarginX18 = health.maintenanceMarginX18;
        if (health.equityX18 >= int256(health.maintenanceMarginX18)) {
            plan.refusal = Refusal.Healthy;
            return (ctx, plan);
        }
        _size(ctx, plan);
        if (plan.refusal != Refusal.None) return (ctx, plan);
        _price(s, ctx, plan);
    }

    /// @dev The quantity: the fewest whole lots that restore maintenance margin, or all of the position.
    function _size(TradeLogic.TradeContext memory ctx, Plan memory plan) private pure {
        uint256 lot = ctx.spec.minQty;
        uint256 absSize = FixedPointMath.abs(plan.sizeQty);
        uint256 unitNotionalX18 = ctx.markX18 * ctx.spec.contractMultiplier;
        uint256 mmBps = ctx.risk.mmBps;
        uint256 penaltyBps = ctx.risk.liquidationPenaltyBps;
        bool whole =
            absSize * unitNotionalX18 <= SMALL_POSITION_NOTIONAL_X18 ||
                plan.equityX18 <= 0 ||
                uint256(plan.equityX18) * mmBps <= penaltyBps * plan.maintenanceMarginX18;
        uint256 required = absSize;
        if (!whole) {
            // Each contract taken over lowers maintenance margin by notional x mmBps and costs notional x
            // penaltyBps; both round up, so 2 units of slack make the result certain.
            uint256 shortfallX18 = plan.maintenanceMarginX18 - uint256(plan.equityX18) + 2;
            uint256 lots = FixedPointMath.mulDivUp(shortfallX18, BPS, lot * unitNotionalX18 * (mmBps - penaltyBps));
            if (lots * lot < absSize) required = lots * lot;
        }
        plan.requiredQty = required;
        uint256 allowed = plan.maxQty - (plan.maxQty % lot);
        if (allowed >= required) {
            plan.qty = required;
        } else if (whole || allowed == 0) {
            plan.refusal = Refusal.QtyTooSmall;
        } else {
            // A partial liquidation smaller than required still raises the margin ratio (not `whole`).
            plan.qty = allowed;
        }
    }

    /// @dev The penalty (capped at the account's equity) and, when the account ends flat, its deficit.
    function _price(S.Layout storage s, TradeLogic.TradeContext memory ctx, Plan memory plan) private view {
        uint256 notionalX18 = PositionMath.notionalX18(plan.qty, ctx.markX18, ctx.spec.contractMultiplier);
        uint256 penaltyX18 = FixedPointMath.mulDivUp(notionalX18, ctx.risk.liquidationPenaltyBps, BPS);
        uint256 equityLeft = plan.equityX18 > 0 ? uint256(plan.equityX18) : 0;
        plan.penaltyX18 = penaltyX18 < equityLeft ? penaltyX18 : equityLeft;
        bool endsFlat =
            plan.qty == FixedPointMath.abs(plan.sizeQty) && PositionTransfer.flatOutside(s, plan.account, ctx.seriesId);
        if (!endsFlat || plan.equityX18 >= 0) return;
        // Flat, the account's cash is its equity: closing at the mark realizes exactly its unrealized PnL.
        plan.deficitX18 = uint256(-plan.equityX18);
        if (plan.deficitX18 > s.insuranceFundX18) plan.refusal = Refusal.FundShort;
    }

    function _revert(S.Layout storage s, TradeLogic.TradeContext memory ctx, Plan memory plan) private view {
        Refusal refusal = plan.refusal;
        uint32 seriesId = ctx.seriesId;
        if (refusal == Refusal.SeriesExpired)
            revert IClearinghouse.SeriesExpired(seriesId, s.series[seriesId].spec.expiry);
        if (refusal == Refusal.NoPosition) revert ILiquidation.NoPositionToLiquidate(plan.account, seriesId);
        if (refusal == Refusal.IndexStale) revert IClearinghouse.IndexStale(seriesId, ctx.indexObservedAt);
        if (refusal == Refusal.Healthy) {
            revert ILiquidation.AccountNotLiquidatable(plan.account, plan.equityX18, plan.maintenanceMarginX18);
        }
        if (refusal == Refusal.QtyTooSmall) {
            revert ILiquidation.LiquidationQtyTooSmall(plan.account, seriesId, plan.maxQty, plan.requiredQty);
        }
        revert ILiquidation.InsuranceFundShort(plan.account, plan.deficitX18, s.insuranceFundX18);
    }

    // ---------------------------------------------------------------------------------------
    // Execution
    // ---------------------------------------------------------------------------------------

    /// @dev Cancels the account's orders, moves the position part to the liquidator, books the penalty
    /// and, when the account ends flat in deficit, the insurance fund's cover.
    function _execute(S.Layout storage s, TradeLogic.TradeContext memory ctx, Plan memory plan) private {
        PositionTransfer.cancelAllOrdersOf(s, plan.account);
        int256 sizeChangeQty = plan.sizeQty > 0 ? -int256(plan.qty) : int256(plan.qty);
        PositionTransfer.moveAtMark(s, ctx, plan.account, msg.sender, sizeChangeQty);
        uint256 rewardX18 = 0;
        if (plan.penaltyX18 != 0) {
            rewardX18 = (plan.penaltyX18 * LIQUIDATOR_PENALTY_SHARE_BPS) / BPS;
            s.accounts[plan.account].cashX18 -= int256(plan.penaltyX18);
            s.accounts[msg.sender].cashX18 += int256(rewardX18);
            s.insuranceFundX18 += plan.penaltyX18 - rewardX18;
        }
        emit ILiquidation.Liquidated(
            plan.account,
            msg.sender,
            ctx.seriesId,
            sizeChangeQty,
            ctx.markX18,
            plan.penaltyX18,
            rewardX18
        );
        if (plan.deficitX18 != 0) {
            PositionTransfer.payFromInsurance(s, plan.account, plan.deficitX18);
            emit ILiquidation.DeficitResolved(plan.account, plan.deficitX18, plan.deficitX18, 0, 0);
        }
    }

    /// @dev The liquidator must be at or above initial margin with what it took over.
    function _checkLiquidatorMargin(
        S.Layout storage s,
        IIndexOracle oracle,
        uint32 knownSeriesId,
        uint256 knownMarkX18
    ) private view {
        IClearinghouse.AccountHealth memory health = MarginLogic.health(
            s,
            oracle,
            msg.sender,
            knownSeriesId,
            knownMarkX18
        );
        if (health.equityX18 < int256(health.initialMarginX18)) {
            revert IClearinghouse.InsufficientMargin(msg.sender, health.equityX18, health.initialMarginX18);
        }
    }
}
