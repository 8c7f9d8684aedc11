// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IOrderBook} from "../../interfaces/IOrderBook.sol";
import {TickBitmap} from "../../libraries/TickBitmap.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {TradeLogic} from "./TradeLogic.sol";

/// @title OrderQueue
/// @notice Storage of the books: order ids, the FIFO queue of each price level, the active-tick
/// bitmaps and each account's order sums. Internal functions only.
/// @dev Queue invariant: every order but a level's head has an exact `prev`; the head's `prev` is
/// stale and never read (taking the head costs no write to its successor). Each level's `qty` and
/// `orderCount` are the sums over its queue; a tick is set in its side's bitmap iff its level is non-empty.
library OrderQueue {
    /// @notice Largest quantity of one order, and of one account's resting orders on one side of a series.
    uint256 internal constant MAX_ORDER_QTY = type(uint32).max;
    /// @notice Most resting orders of one account in one series.
    uint256 internal constant MAX_OPEN_ORDERS = 32;

    // ---------------------------------------------------------------------------------------
    // Ids and rights
    // ---------------------------------------------------------------------------------------

    /// @notice The id of an order: series << 96 | ref << 32 | sequence, with ref = account id << 8 | slot.
    function orderIdOf(uint32 seriesId, uint256 ref, uint32 sequence) internal pure returns (uint256) {
        return (uint256(seriesId) << 96) | (ref << 32) | sequence;
    }

    /// @notice The ref of `account`'s order slot, giving the account its compact id on first use.
    function refOf(S.Layout storage s, address account, uint256 slot) internal returns (uint256) {
        uint32 accountId = s.accountIds[account];
        if (accountId == 0) {
            accountId = ++s.accountCount;
            s.accountIds[account] = accountId;
            s.accountsById[accountId] = account;
        }
        return (uint256(accountId) << 8) | slot;
    }

    /// @notice The resting order named by `orderId`; reverts with `OrderNotFound` otherwise.
    function requireOrder(
        S.Layout storage s,
        uint256 orderId
    ) internal view returns (uint32 seriesId, uint256 ref, S.Order memory order) {
        seriesId = uint32(orderId >> 96);
        ref = uint40(orderId >> 32);
        order = s.books[seriesId].orders[ref];
        // Only the canonical encoding names an order: no spare bits, a live order, its own sequence.
        if (
            orderId != orderIdOf(seriesId, ref, uint32(orderId)) || order.qty == 0 || order.sequence != uint32(orderId)
        ) {
            revert IOrderBook.OrderNotFound(orderId);
        }
    }

    /// @notice True when the caller is `account` or one of its operators.
    function isOwnerOrOperator(S.Layout storage s, address account) internal view returns (bool) {
        return msg.sender == account || s.operators[account][msg.sender];
    }

    /// @notice Reverts unless the caller is `account` or one of its operators.
    function requireOwnerOrOperator(S.Layout storage s, address account) internal view {
        if (!isOwnerOrOperator(s, account)) revert IClearinghouse.NotAccountOwnerOrOperator(account, msg.sender);
    }

    // ---------------------------------------------------------------------------------------
    // Queue
    // ---------------------------------------------------------------------------------------

    /// @notice Appends `account`'s new order at the tail of its level and adds it to the account's sums.
    function rest(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        address account,
        uint256 slot,
        uint32 sequence,
        IOrderBook.OrderParams calldata params,
        uint256 qty
    ) internal {
        uint32 seriesId = ctx.seriesId;
        uint256 ref = refOf(s, account, slot);
        S.Book storage book = s.books[seriesId];
        S.Side storage side = params.isBuy ? book.bids : book.asks;
        S.Level memory level = side.levels[params.tick];
        if (level.orderCount == 0) {
            TickBitmap.set(side.ticks, params.tick);
            level.head = uint40(ref);
        } else {
            book.orders[level.tail].next = uint40(ref);
        }
        uint8 flags = (params.isBuy ? S.FLAG_BUY : 0) | (params.reduceOnly ? S.FLAG_REDUCE_ONLY : 0);
        book.orders[ref] = S.Order({
            qty: uint32(qty),
            tick: params.tick,
            flags: flags,
            expiresAt: params.expiresAt,
            prev: level.tail,
            next: 0,
            sequence: sequence
        });
        level.tail = uint40(ref);
        level.qty += uint64(qty);
        ++level.orderCount;
        side.levels[params.tick] = level;

        _addToSums(s, account, seriesId, slot, sequence, params, qty);
        S.joinSeries(s, account, seriesId);
    }

    /// @dev Adds a new resting order to its owner's sums (reduce-only orders only take a slot).
    function _addToSums(
        S.Layout storage s,
        address account,
        uint32 seriesId,
        uint256 slot,
        uint32 sequence,
        IOrderBook.OrderParams calldata params,
        uint256 qty
    ) private {
        S.Exposure memory exposure = s.exposures[account][seriesId];
        exposure.slotBitmap |= uint32(1 << slot);
        exposure.sequence = sequence;
        if (!params.reduceOnly) {
            // Safe: qty <= 2^32 - 1 and tick <= 2^24 - 1, so each sum of qty x tick stays below 2^56 x 2^8.
            uint256 tickQty = qty * params.tick;
            if (params.isBuy) {
                uint256 openQty = exposure.buyQty + qty;
                if (openQty > MAX_ORDER_QTY)
                    revert IOrderBook.OpenQtyTooLarge(account, seriesId, openQty, MAX_ORDER_QTY);
                exposure.buyQty = uint32(openQty);
                exposure.buyTickQty += uint64(tickQty);
            } else {
                uint256 openQty = exposure.sellQty + qty;
                if (openQty > MAX_ORDER_QTY)
                    revert IOrderBook.OpenQtyTooLarge(account, seriesId, openQty, MAX_ORDER_QTY);
                exposure.sellQty = uint32(openQty);
                exposure.sellTickQty += uint64(tickQty);
            }
        }
        s.exposures[account][seriesId] = exposure;
    }

    /// @notice Removes a resting order from anywhere in its queue, releasing its reserve.
    function remove(
        S.Layout storage s,
        uint32 seriesId,
        uint256 ref,
        S.Order memory order,
        address account,
        IOrderBook.CancelReason reason
    ) internal {
        S.Book storage book = s.books[seriesId];
        S.Side storage side = order.flags & S.FLAG_BUY != 0 ? book.bids : book.asks;
        S.Level memory level = side.levels[order.tick];
        bool isHead = level.head == ref;
        if (isHead) {
            level.head = order.next;
        } else {
            book.orders[order.prev].next = order.next;
        }
        if (level.tail == ref) {
            level.tail = isHead ? 0 : order.prev;
        } else if (!isHead) {
            book.orders[order.next].prev = order.prev;
        }
        level.qty -= order.qty;
        --level.orderCount;
        storeLevel(side, order.tick, level);
        // A cancelled order's word stays non-zero (qty 0, sequence kept): the account's next order in this
        // slot, usually its replacement, then costs a storage update instead of a new storage word.
        s.books[seriesId].orders[ref].qty = 0;
        _release(s, seriesId, ref, order, account, order.qty, true);
        emit IOrderBook.OrderCancelled(seriesId, orderIdOf(seriesId, ref, order.sequence), account, order.qty, reason);
    }

    /// @notice Removes the head order of a level held in memory (matching), releasing its reserve.
    function popHead(
        S.Layout storage s,
        uint32 seriesId,
        uint256 ref,
        S.Order memory order,
        S.Level memory level,
        address account,
        IOrderBook.CancelReason reason
    ) internal {
        level.head = order.next;
        if (order.next == 0) level.tail = 0;
        level.qty -= order.qty;
        --level.orderCount;
        // Matching deletes the word: the refund lowers the taker's cost.
        delete s.books[seriesId].orders[ref];
        _release(s, seriesId, ref, order, account, order.qty, true);
        emit IOrderBook.OrderCancelled(seriesId, orderIdOf(seriesId, ref, order.sequence), account, order.qty, reason);
    }

    /// @notice Books a fill of `qty` of the head order (whose `qty` is already reduced by it).
    function onMakerFill(
        S.Layout storage s,
        uint32 seriesId,
        uint256 ref,
        S.Order memory order,
        S.Level memory level,
        address maker,
        uint256 qty
    ) internal {
        bool filled = order.qty == 0;
        if (filled) {
            level.head = order.next;
            if (order.next == 0) level.tail = 0;
            --level.orderCount;
            delete s.books[seriesId].orders[ref];
        } else {
            s.books[seriesId].orders[ref].qty = order.qty;
        }
        _release(s, seriesId, ref, order, maker, qty, filled);
    }

    /// @notice Writes a level back, or deletes it and clears its tick when it is empty.
    function storeLevel(S.Side storage side, uint256 tick, S.Level memory level) internal {
        if (level.orderCount == 0) {
            delete side.levels[tick];
            TickBitmap.clear(side.ticks, tick);
        } else {
            side.levels[tick] = level;
        }
    }

    /// @dev Takes `qty` of an order out of its owner's sums; when `gone` (cancelled, removed by matching or
    /// filled), also frees its slot, and the account leaves the series when nothing else holds it there.
    function _release(
        S.Layout storage s,
        uint32 seriesId,
        uint256 ref,
        S.Order memory order,
        address account,
        uint256 qty,
        bool gone
    ) private {
        // One read and one write of the sums' word, whatever changes in it.
        S.Exposure memory exposure = s.exposures[account][seriesId];
        if (order.flags & S.FLAG_REDUCE_ONLY == 0) {
            // Safe: the sums include every non-reduce-only resting order at its resting qty.
            if (order.flags & S.FLAG_BUY != 0) {
                exposure.buyQty -= uint32(qty);
                exposure.buyTickQty -= uint64(qty * order.tick);
            } else {
                exposure.sellQty -= uint32(qty);
                exposure.sellTickQty -= uint64(qty * order.tick);
            }
        }
        if (gone) exposure.slotBitmap &= ~uint32(1 << (ref & 0xff));
        s.exposures[account][seriesId] = exposure;
        if (gone) S.leaveSeriesIfIdle(s, account, seriesId);
    }
}
