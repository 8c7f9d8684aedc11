// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../interfaces/IClearinghouse.sol";
import {IOrderBook} from "../interfaces/IOrderBook.sol";

/// @title OrderBookLens
/// @notice Read-only views of the books for dApps and keepers, one call each: best bid and ask,
/// depth by level, and an account's open orders. Never called by the core; holds nothing.
contract OrderBookLens {
    /// @notice The best price level of one side.
    /// @param exists False when the side is empty (the other fields are then 0).
    /// @param tick The level's tick.
    /// @param priceX18 tick x tick size.
    /// @param qty Contracts resting at that price.
    /// @param orderCount Orders resting at that price.
    struct Top {
        bool exists;
        uint32 tick;
        uint256 priceX18;
        uint64 qty;
        uint32 orderCount;
    }

    /// @notice One level of depth.
    struct Depth {
        uint32 tick;
        uint256 priceX18;
        uint64 qty;
        uint32 orderCount;
    }

    /// @notice Largest tick of the books.
    uint32 public constant MAX_TICK = 2 ** 24 - 1;

    /// @notice The clearinghouse whose books this lens reads.
    IClearinghouse public immutable clearinghouse;

    /// @param clearinghouse_ The clearinghouse.
    constructor(IClearinghouse clearinghouse_) {
        clearinghouse = clearinghouse_;
    }

    /// @notice Best bid and best ask of a series.
    /// @param seriesId The series.
    /// @return bid The best bid level.
    /// @return ask The best ask level.
    function bestBidAsk(uint32 seriesId) external view returns (Top memory bid, Top memory ask) {
        uint256 tickSizeX18 = clearinghouse.seriesSpec(seriesId).tickSizeX18;
        bid = _top(seriesId, true, tickSizeX18);
        ask = _top(seriesId, false, tickSizeX18);
    }

    /// @notice Up to `levels` levels of each side, best first.
    /// @param seriesId The series.
    /// @param levels Most levels per side.
    /// @return bids Bid levels, highest price first.
    /// @return asks Ask levels, lowest price first.
    function depth(uint32 seriesId, uint256 levels) external view returns (Depth[] memory bids, Depth[] memory asks) {
        uint256 tickSizeX18 = clearinghouse.seriesSpec(seriesId).tickSizeX18;
        bids = _side(seriesId, true, levels, tickSizeX18);
        asks = _side(seriesId, false, levels, tickSizeX18);
    }

    /// @notice Every resting order of `account` in a series.
    /// @param account The account.
    /// @param seriesId The series.
    /// @return orders The orders, in slot order.
    function openOrders(address account, uint32 seriesId) external view returns (IOrderBook.OrderView[] memory orders) {
        uint256[] memory ids = clearinghouse.openOrderIdsOf(account, seriesId);
        orders = new IOrderBook.OrderView[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) orders[i] = clearinghouse.orderOf(ids[i]);
    }

    /// @notice The orders of one level in queue order (oldest first), at most `maxOrders`.
    /// @param seriesId The series.
    /// @param isBuy The side.
    /// @param tick The level.
    /// @param maxOrders Most orders returned.
    /// @return orders The orders.
    function levelOrders(
        uint32 seriesId,
        bool isBuy,
        uint32 tick,
        uint256 maxOrders
    ) external view returns (IOrderBook.OrderView[] memory orders) {
        IOrderBook.LevelView memory level = clearinghouse.levelOf(seriesId, isBuy, tick);
        uint256 count = level.orderCount < maxOrders ? level.orderCount : maxOrders;
        orders = new IOrderBook.OrderView[](count);
        uint256 orderId = level.headOrderId;
        for (uint256 i = 0; i < count; ++i) {
            orders[i] = clearinghouse.orderOf(orderId);
            orderId = clearinghouse.nextOrderIdOf(orderId);
        }
    }

    function _top(uint32 seriesId, bool isBuy, uint256 tickSizeX18) private view returns (Top memory top) {
        (uint32 tick, bool found) = clearinghouse.nextActiveTick(seriesId, isBuy, isBuy ? MAX_TICK : 0);
        if (!found) return top;
        IOrderBook.LevelView memory level = clearinghouse.levelOf(seriesId, isBuy, tick);
        return Top(true, tick, tick * tickSizeX18, level.qty, level.orderCount);
    }

    function _side(
        uint32 seriesId,
        bool isBuy,
        uint256 levels,
        uint256 tickSizeX18
    ) private view returns (Depth[] memory result) {
        Depth[] memory found = new Depth[](levels);
        uint256 count = 0;
        uint32 from = isBuy ? MAX_TICK : 0;
        while (count < levels) {
            (uint32 tick, bool exists) = clearinghouse.nextActiveTick(seriesId, isBuy, from);
            if (!exists) break;
            IOrderBook.LevelView memory level = clearinghouse.levelOf(seriesId, isBuy, tick);
            found[count++] = Depth(tick, tick * tickSizeX18, level.qty, level.orderCount);
            if (isBuy ? tick == 0 : tick == MAX_TICK) break;
            from = isBuy ? tick - 1 : tick + 1;
        }
        result = new Depth[](count);
        for (uint256 i = 0; i < count; ++i) result[i] = found[i];
    }
}
