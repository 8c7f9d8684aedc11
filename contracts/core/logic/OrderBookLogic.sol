// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {IOrderBook} from "../../interfaces/IOrderBook.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {PositionMath} from "../../libraries/PositionMath.sol";
import {TickBitmap} from "../../libraries/TickBitmap.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {OrderQueue} from "./OrderQueue.sol";
import {TradeLogic} from "./TradeLogic.sol";

/// @title OrderBookLogic
/// @notice Places, matches, rests and cancels orders on the book of every series (stateless; runs
/// over the clearinghouse's storage). See `IOrderBook` for the rules.
/// @dev Makers are settled as they fill: position, cash (fee) and order sums are written per fill;
/// the taker's position is kept in memory during matching and written once.
library OrderBookLogic {
    using SafeCast for int256;
    using SafeCast for uint256;

    /// @notice Most resting orders one taker order may fill or remove.
    uint256 internal constant MAX_FILLS = 50;

    /// @dev The taker's running state while it matches.
    struct Taker {
        address account;
        uint256 orderId;
        bool isBuy;
        uint256 limitTick;
        uint256 bandMinTick;
        uint256 bandMaxTick;
        uint256 remaining;
        uint256 budget;
        uint256 filled;
        uint256 notionalX18;
        uint256 takerFeeX18;
        int256 makerFeesX18;
        int256 makerLongChange;
        int256 sizeQty;
        int256 openX18;
        int256 realizedX18;
        uint256 lastPriceX18;
        bool resting;
        uint256 slot;
        uint32 sequence;
        uint256 clippedQty;
    }

    // ---------------------------------------------------------------------------------------
    // Entry points
    // ---------------------------------------------------------------------------------------

    /// @notice See `IOrderBook.placeOrder`; the caller's rights over `params.account` are checked here.
    function placeOrder(
        S.Layout storage s,
        IIndexOracle oracle,
        IOrderBook.OrderParams calldata params,
        bool paused
    ) external returns (IOrderBook.PlaceResult memory) {
        OrderQueue.requireOwnerOrOperator(s, params.account);
        return _place(s, oracle, params, paused);
    }

    /// @notice See `IOrderBook.replaceOrder`.
    function replaceOrder(
        S.Layout storage s,
        IIndexOracle oracle,
        uint256 orderId,
        IOrderBook.OrderParams calldata params,
        bool paused
    ) external returns (IOrderBook.PlaceResult memory) {
        (uint32 seriesId, uint256 ref, S.Order memory order) = OrderQueue.requireOrder(s, orderId);
        address account = s.accountsById[uint32(ref >> 8)];
        if (seriesId != params.seriesId || account != params.account) {
            revert IOrderBook.ReplaceMismatch(orderId, params.seriesId, params.account);
        }
        OrderQueue.requireOwnerOrOperator(s, account);
        OrderQueue.remove(s, seriesId, ref, order, account, IOrderBook.CancelReason.Replaced);
        return _place(s, oracle, params, paused);
    }

    // ---------------------------------------------------------------------------------------
    // Placing
    // ---------------------------------------------------------------------------------------

    function _place(
        S.Layout storage s,
        IIndexOracle oracle,
        IOrderBook.OrderParams calldata params,
        bool paused
    ) private returns (IOrderBook.PlaceResult memory result) {
        TradeLogic.TradeContext memory ctx = TradeLogic.context(s, oracle, params.seriesId, paused);
        _validate(ctx, params);
        S.settleFinalSeries(s, params.account);
        IClearinghouse.Position memory position = s.positions[params.account][params.seriesId];
        Taker memory taker = _takerOf(ctx, params, position);
        S.Book storage book = s.books[params.seriesId];
        if (taker.resting) _open(s, book, ctx, params, taker);
        if (params.kind != IOrderBook.OrderKind.PostOnly) _match(s, book, ctx, taker);
        if (taker.filled != 0) _settleTaker(s, ctx, taker, position);
        result = _finish(s, book, ctx, params, taker);
        _checkAccount(s, oracle, ctx, taker, position, result.restingQty != 0 && !params.reduceOnly);
    }

    /// @dev Gives a Limit or PostOnly order its id (a free slot and the next sequence) and announces it.
    function _open(
        S.Layout storage s,
        S.Book storage book,
        TradeLogic.TradeContext memory ctx,
        IOrderBook.OrderParams calldata params,
        Taker memory taker
    ) private {
        if (params.kind == IOrderBook.OrderKind.PostOnly) _requireNoCross(book, params.seriesId, taker);
        (taker.slot, taker.sequence) = _allocate(s, params.account, params.seriesId);
        taker.orderId = OrderQueue.orderIdOf(
            params.seriesId,
            OrderQueue.refOf(s, params.account, taker.slot),
            taker.sequence
        );
        emit IOrderBook.OrderPlaced(
            params.seriesId,
            taker.orderId,
            params.account,
            params.isBuy,
            params.kind,
            params.reduceOnly,
            params.tick * uint256(ctx.spec.tickSizeX18),
            taker.remaining,
            params.expiresAt
        );
    }

    /// @dev What happens to the unfilled remainder: a resting kind rests unless it still crosses (its
    /// fill budget ran out), fill-or-kill reverts, everything else is dropped.
    function _finish(
        S.Layout storage s,
        S.Book storage book,
        TradeLogic.TradeContext memory ctx,
        IOrderBook.OrderParams calldata params,
        Taker memory taker
    ) private returns (IOrderBook.PlaceResult memory result) {
        result.orderId = taker.orderId;
        result.filledQty = uint64(taker.filled);
        result.cancelledQty = uint64(taker.clippedQty);
        if (taker.remaining != 0) {
            if (params.kind == IOrderBook.OrderKind.FillOrKill) {
                revert IOrderBook.FillOrKillUnfilled(params.seriesId, taker.filled, taker.filled + taker.remaining);
            }
            if (taker.resting && (taker.budget != 0 || !_crosses(book, taker))) {
                OrderQueue.rest(s, ctx, params.account, taker.slot, taker.sequence, params, taker.remaining);
                result.restingQty = uint64(taker.remaining);
                return result;
            }
            result.cancelledQty += uint64(taker.remaining);
            if (taker.resting) {
                emit IOrderBook.OrderCancelled(
                    params.seriesId,
                    taker.orderId,
                    params.account,
                    taker.remaining,
                    IOrderBook.CancelReason.Unfilled
                );
            }
        }
        // The order did not rest; its sequence number is still spent, so ids are never reused.
        if (taker.resting) s.exposures[params.account][params.seriesId].sequence = taker.sequence;
    }

    /// @dev Reverts on a malformed order.
    function _validate(TradeLogic.TradeContext memory ctx, IOrderBook.OrderParams calldata params) private view {
        if (params.account == address(0)) revert IClearinghouse.ZeroAddress();
        uint256 lot = ctx.spec.minQty;
        if (params.qty < lot) revert IClearinghouse.QtyBelowMinimum(params.seriesId, params.qty, lot);
        if (params.qty % lot != 0) revert IOrderBook.QtyNotMultipleOfLot(params.seriesId, params.qty, lot);
        if (params.qty > OrderQueue.MAX_ORDER_QTY) {
            revert IOrderBook.QtyTooLarge(params.seriesId, params.qty, OrderQueue.MAX_ORDER_QTY);
        }
        bool tickMayBeZero = params.kind == IOrderBook.OrderKind.Market;
        if ((params.tick == 0 && !tickMayBeZero) || params.tick > TickBitmap.MAX_TICK) {
            revert IOrderBook.TickOutOfRange(params.seriesId, params.tick, TickBitmap.MAX_TICK);
        }
        if (params.maxFills == 0 || params.maxFills > MAX_FILLS) {
            revert IOrderBook.MaxFillsOutOfRange(params.maxFills, MAX_FILLS);
        }
        bool resting = params.kind == IOrderBook.OrderKind.Limit || params.kind == IOrderBook.OrderKind.PostOnly;
        // Time rule: a good-till-time order must expire in the future.
        // solhint-disable not-rely-on-time
        if (params.expiresAt != 0 && (!resting || params.expiresAt <= block.timestamp)) {
            revert IOrderBook.OrderExpiryInvalid(params.expiresAt, block.timestamp);
        }
        // solhint-enable not-rely-on-time
    }

    /// @dev The taker's starting state: quantity (reduce-only clipped to the position), the band in
    /// ticks and the limit tick (immediate kinds clipped to the band; resting kinds must lie in it).
    function _takerOf(
        TradeLogic.TradeContext memory ctx,
        IOrderBook.OrderParams calldata params,
        IClearinghouse.Position memory position
    ) private pure returns (Taker memory taker) {
        taker.account = params.account;
        taker.isBuy = params.isBuy;
        taker.budget = params.maxFills;
        taker.sizeQty = position.sizeQty;
        taker.openX18 = position.openNotionalX18;
        taker.remaining = params.qty;
        taker.resting = params.kind == IOrderBook.OrderKind.Limit || params.kind == IOrderBook.OrderKind.PostOnly;
        if (params.reduceOnly) {
            uint256 reducible = _reducible(position.sizeQty, params.isBuy);
            if (reducible == 0) {
                revert IOrderBook.ReduceOnlyNothingToReduce(params.account, params.seriesId, position.sizeQty);
            }
            if (reducible < taker.remaining) {
                taker.clippedQty = taker.remaining - reducible;
                taker.remaining = reducible;
            }
        } else {
            if (ctx.paused) revert Pausable.EnforcedPause();
            if (ctx.indexStale) revert IClearinghouse.IndexStale(params.seriesId, ctx.indexObservedAt);
        }
        (uint256 minPriceX18, uint256 maxPriceX18) = TradeLogic.band(ctx);
        uint256 tickSize = ctx.spec.tickSizeX18;
        taker.bandMinTick = FixedPointMath.mulDivUp(minPriceX18, 1, tickSize);
        if (taker.bandMinTick == 0) taker.bandMinTick = 1;
        taker.bandMaxTick = maxPriceX18 / tickSize;
        if (taker.bandMaxTick > TickBitmap.MAX_TICK) taker.bandMaxTick = TickBitmap.MAX_TICK;
        uint256 tick = params.tick;
        if (taker.resting) {
            if (tick < taker.bandMinTick || tick > taker.bandMaxTick) {
                revert IClearinghouse.PriceOutsideBand(params.seriesId, tick * tickSize, minPriceX18, maxPriceX18);
            }
            taker.limitTick = tick;
        } else if (params.isBuy) {
            taker.limitTick = tick == 0 || tick > taker.bandMaxTick ? taker.bandMaxTick : tick;
        } else {
            taker.limitTick = tick < taker.bandMinTick ? taker.bandMinTick : tick;
        }
    }

    /// @dev Contracts a reduce-only order on side `isBuy` may trade without increasing `sizeQty`.
    function _reducible(int256 sizeQty, bool isBuy) private pure returns (uint256) {
        if (isBuy) return sizeQty < 0 ? uint256(-sizeQty) : 0;
        return sizeQty > 0 ? uint256(sizeQty) : 0;
    }

    /// @dev A free order slot of `account` in a series and the next order sequence number.
    function _allocate(
        S.Layout storage s,
        address account,
        uint32 seriesId
    ) private view returns (uint256 slot, uint32 sequence) {
        S.Exposure memory exposure = s.exposures[account][seriesId];
        uint256 used = exposure.slotBitmap;
        if (used == type(uint32).max) {
            revert IOrderBook.TooManyOpenOrders(account, seriesId, OrderQueue.MAX_OPEN_ORDERS);
        }
        while (used & (1 << slot) != 0) ++slot;
        sequence = uint256(exposure.sequence + 1).toUint32();
    }

    function _requireNoCross(S.Book storage book, uint32 seriesId, Taker memory taker) private view {
        (uint256 best, bool found) = _bestOpposite(book, taker.isBuy);
        if (found && (taker.isBuy ? best <= taker.limitTick : best >= taker.limitTick)) {
            revert IOrderBook.PostOnlyWouldCross(seriesId, taker.limitTick, best);
        }
    }

    function _crosses(S.Book storage book, Taker memory taker) private view returns (bool) {
        (uint256 best, bool found) = _bestOpposite(book, taker.isBuy);
        return found && (taker.isBuy ? best <= taker.limitTick : best >= taker.limitTick);
    }

    function _bestOpposite(S.Book storage book, bool isBuy) private view returns (uint256, bool) {
        return isBuy ? TickBitmap.lowest(book.asks.ticks) : TickBitmap.highest(book.bids.ticks);
    }

    // ---------------------------------------------------------------------------------------
    // Matching
    // ---------------------------------------------------------------------------------------

    /// @dev Fills or removes resting orders best price first, oldest first, until the taker is
    /// filled, its budget is spent or no level crosses its limit.
    function _match(
        S.Layout storage s,
        S.Book storage book,
        TradeLogic.TradeContext memory ctx,
        Taker memory taker
    ) private {
        S.Side storage opposite = taker.isBuy ? book.asks : book.bids;
        while (taker.remaining != 0 && taker.budget != 0) {
            (uint256 tick, bool found) = _bestOpposite(book, taker.isBuy);
            if (!found || (taker.isBuy ? tick > taker.limitTick : tick < taker.limitTick)) break;
            _matchLevel(s, book, opposite, ctx, taker, tick);
        }
    }

    function _matchLevel(
        S.Layout storage s,
        S.Book storage book,
        S.Side storage opposite,
        TradeLogic.TradeContext memory ctx,
        Taker memory taker,
        uint256 tick
    ) private {
        S.Level memory level = opposite.levels[tick];
        bool outOfBand = tick < taker.bandMinTick || tick > taker.bandMaxTick;
        while (level.head != 0 && taker.remaining != 0 && taker.budget != 0) {
            uint256 ref = level.head;
            S.Order memory order = book.orders[ref];
            address maker = s.accountsById[uint32(ref >> 8)];
            --taker.budget;
            IOrderBook.CancelReason reason = IOrderBook.CancelReason.Owner;
            // Time rule: a good-till-time order is cancelled once its time has passed (the second test).
            // solhint-disable not-rely-on-time
            if (outOfBand) {
                reason = IOrderBook.CancelReason.OutOfBand;
            } else if (order.expiresAt != 0 && order.expiresAt <= block.timestamp) {
                reason = IOrderBook.CancelReason.Expired;
            } else if (maker == taker.account) {
                reason = IOrderBook.CancelReason.SelfTrade;
            } else if (order.flags & S.FLAG_REDUCE_ONLY != 0) {
                uint256 reducible = _reducible(s.positions[maker][ctx.seriesId].sizeQty, !taker.isBuy);
                if (reducible == 0) {
                    reason = IOrderBook.CancelReason.ReduceOnlyClipped;
                } else if (order.qty > reducible) {
                    _clip(s, ctx.seriesId, ref, order, level, maker, reducible);
                }
            }
            // solhint-enable not-rely-on-time
            if (reason != IOrderBook.CancelReason.Owner) {
                OrderQueue.popHead(s, ctx.seriesId, ref, order, level, maker, reason);
                continue;
            }
            _fillMaker(s, ctx, taker, ref, order, level, maker);
        }
        OrderQueue.storeLevel(opposite, tick, level);
    }

    /// @dev Cuts a reduce-only order down to what its owner can still reduce.
    function _clip(
        S.Layout storage s,
        uint32 seriesId,
        uint256 ref,
        S.Order memory order,
        S.Level memory level,
        address maker,
        uint256 reducible
    ) private {
        uint256 clipped = order.qty - reducible;
        order.qty = uint32(reducible);
        level.qty -= uint64(clipped);
        s.books[seriesId].orders[ref].qty = order.qty;
        emit IOrderBook.OrderCancelled(
            seriesId,
            OrderQueue.orderIdOf(seriesId, ref, order.sequence),
            maker,
            clipped,
            IOrderBook.CancelReason.ReduceOnlyClipped
        );
    }

    /// @dev Fills the head order of a level against the taker: the maker's position, cash and order
    /// sums in storage, the taker's in memory.
    function _fillMaker(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        Taker memory taker,
        uint256 ref,
        S.Order memory order,
        S.Level memory level,
        address maker
    ) private {
        uint256 qty = order.qty < taker.remaining ? order.qty : taker.remaining;
        uint256 priceX18 = uint256(order.tick) * ctx.spec.tickSizeX18;
        uint256 notionalX18 = PositionMath.notionalX18(qty, priceX18, ctx.spec.contractMultiplier);
        int256 makerFeeX18 = PositionMath.feeX18(notionalX18, ctx.risk.makerFeeBps);
        taker.makerLongChange += _applyMaker(
            s,
            ctx,
            maker,
            taker.isBuy ? -int256(qty) : int256(qty),
            priceX18,
            makerFeeX18
        );
        order.qty -= uint32(qty);
        level.qty -= uint64(qty);
        OrderQueue.onMakerFill(s, ctx.seriesId, ref, order, level, maker, qty);
        uint256 takerFeeX18 = _applyTaker(ctx, taker, qty, priceX18, notionalX18, makerFeeX18);
        emit IOrderBook.OrderFilled(
            ctx.seriesId,
            OrderQueue.orderIdOf(ctx.seriesId, ref, order.sequence),
            maker,
            taker.account,
            taker.orderId,
            taker.isBuy,
            priceX18,
            qty,
            makerFeeX18,
            takerFeeX18
        );
    }

    /// @dev Books a maker's side of a fill into storage; returns its long-size change.
    function _applyMaker(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        address maker,
        int256 deltaQty,
        uint256 priceX18,
        int256 makerFeeX18
    ) private returns (int256) {
        IClearinghouse.Position storage position = s.positions[maker][ctx.seriesId];
        int256 oldSize = position.sizeQty;
        (int256 newSize, int256 newOpen, int256 realizedX18) = PositionMath.applyTrade(
            oldSize,
            position.openNotionalX18,
            deltaQty,
            priceX18,
            ctx.spec.contractMultiplier
        );
        s.positions[maker][ctx.seriesId] = IClearinghouse.Position(newSize.toInt64(), newOpen.toInt192());
        s.accounts[maker].cashX18 += realizedX18 - makerFeeX18;
        return TradeLogic.longSizeChange(oldSize, newSize);
    }

    /// @dev Books the taker's side of a fill into its running state; returns the taker fee.
    function _applyTaker(
        TradeLogic.TradeContext memory ctx,
        Taker memory taker,
        uint256 qty,
        uint256 priceX18,
        uint256 notionalX18,
        int256 makerFeeX18
    ) private pure returns (uint256 takerFeeX18) {
        takerFeeX18 = uint256(PositionMath.feeX18(notionalX18, int256(uint256(ctx.risk.takerFeeBps))));
        int256 realizedX18;
        (taker.sizeQty, taker.openX18, realizedX18) = PositionMath.applyTrade(
            taker.sizeQty,
            taker.openX18,
            taker.isBuy ? int256(qty) : -int256(qty),
            priceX18,
            ctx.spec.contractMultiplier
        );
        taker.realizedX18 += realizedX18;
        taker.takerFeeX18 += takerFeeX18;
        taker.makerFeesX18 += makerFeeX18;
        taker.filled += qty;
        taker.remaining -= qty;
        taker.notionalX18 += notionalX18;
        taker.lastPriceX18 = priceX18;
    }

    // ---------------------------------------------------------------------------------------
    // After matching
    // ---------------------------------------------------------------------------------------

    /// @dev Writes the taker's position and cash, open interest, fees and the basis sample.
    function _settleTaker(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        Taker memory taker,
        IClearinghouse.Position memory before
    ) private {
        s.positions[taker.account][ctx.seriesId] = IClearinghouse.Position(
            taker.sizeQty.toInt64(),
            taker.openX18.toInt192()
        );
        s.accounts[taker.account].cashX18 += taker.realizedX18 - int256(taker.takerFeeX18);
        if (before.sizeQty == 0) {
            S.joinSeries(s, taker.account, ctx.seriesId);
        } else if (taker.sizeQty == 0) {
            S.leaveSeriesIfIdle(s, taker.account, ctx.seriesId);
        }
        TradeLogic.updateOpenInterest(
            s,
            ctx,
            taker.makerLongChange + TradeLogic.longSizeChange(before.sizeQty, taker.sizeQty)
        );
        TradeLogic.bookFees(s, int256(taker.takerFeeX18) + taker.makerFeesX18);
        TradeLogic.sampleBasis(s, ctx, taker.lastPriceX18);
        emit IOrderBook.TakerOrderFilled(
            ctx.seriesId,
            taker.account,
            taker.orderId,
            taker.isBuy,
            taker.filled,
            taker.notionalX18,
            taker.takerFeeX18
        );
    }

    /// @dev The placing account's checks: a side that raised its risk or rested a margined order
    /// needs room under its position limit (all orders filled) and initial margin including its
    /// orders' reserve; a side that only reduced may not lower its maintenance surplus below initial margin.
    function _checkAccount(
        S.Layout storage s,
        IIndexOracle oracle,
        TradeLogic.TradeContext memory ctx,
        Taker memory taker,
        IClearinghouse.Position memory before,
        bool restedWithMargin
    ) private view {
        bool raisedRisk = TradeLogic.raisesRisk(before.sizeQty, taker.sizeQty);
        if (raisedRisk) TradeLogic.checkRiskIncreaseAllowed(ctx, taker.account, FixedPointMath.abs(taker.sizeQty));
        if (raisedRisk || restedWithMargin) {
            S.Exposure memory exposure = s.exposures[taker.account][ctx.seriesId];
            uint256 worstLong = FixedPointMath.abs(taker.sizeQty + int256(uint256(exposure.buyQty)));
            uint256 worstShort = FixedPointMath.abs(taker.sizeQty - int256(uint256(exposure.sellQty)));
            uint256 worst = worstLong > worstShort ? worstLong : worstShort;
            if (worst > ctx.risk.positionLimitQty) {
                revert IClearinghouse.PositionLimitExceeded(
                    taker.account,
                    ctx.seriesId,
                    worst,
                    ctx.risk.positionLimitQty
                );
            }
        }
        if (!raisedRisk && !restedWithMargin) {
            if (taker.filled == 0) return;
            TradeLogic.SideChange memory change = TradeLogic.SideChange({
                oldSize: before.sizeQty,
                oldOpen: before.openNotionalX18,
                newSize: taker.sizeQty,
                newOpen: taker.openX18,
                realizedPnlX18: taker.realizedX18
            });
            int256 surplusChangeX18 = TradeLogic.maintenanceSurplusChange(ctx, change, int256(taker.takerFeeX18));
            TradeLogic.checkMarginAfterTrade(s, oracle, ctx, taker.account, false, surplusChangeX18);
            return;
        }
        TradeLogic.checkMarginAfterTrade(s, oracle, ctx, taker.account, true, 0);
    }
}
