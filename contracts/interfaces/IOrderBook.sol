// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOrderBook
/// @notice The on-chain central limit order book of every series, built into the clearinghouse:
/// price-time priority, limit (good till cancel or good till time), post-only, immediate-or-cancel,
/// fill-or-kill, market and reduce-only orders, self-trade prevention, margin reserved for resting
/// orders, and a bound on the work of every call.
/// @dev Units. Prices on the book are integer ticks: price = tick x the series' tick size, with
/// 1 <= tick <= MAX_TICK. Quantities are whole contracts and multiples of the series' `minQty` (the
/// lot), so no order or position below the lot can remain after partial fills.
///
/// Matching. A taker fills resting orders best price first and, within a price, oldest first. It
/// fills or removes at most `maxFills` resting orders; a limit order then rests only if it no longer
/// crosses, else its remainder is cancelled. Makers are filled at their own price; fills happen only
/// within the series' band around the mark. While matching, a resting order is removed instead of
/// filled when it belongs to the taker (self-trade prevention: the resting order is cancelled), has
/// passed its good-till time, sits outside the band, or is a reduce-only order with nothing left to
/// reduce; each removal counts toward `maxFills`.
///
/// Margin. Resting orders reserve initial margin for the worst of four cases per series: none, all
/// bids, all asks, or all orders filled at their limit prices, valued at the mark. A new resting
/// order and a taker that raised its risk must leave equity at or above initial margin including
/// that reserve. Reduce-only orders reserve nothing; they never increase a position (clipped when
/// placed and again when filled). A taker that only reduced must end at or above initial margin or
/// not have lowered its maintenance surplus.
/// Makers are not margin-checked when filled: their reserve covered the fill when they placed it.
///
/// Assumptions. Correctness: as for `IClearinghouse`. Liveness: the oracle is fresh for new risk;
/// cancels and reduce-only orders never need a fresh index and work while paused.
interface IOrderBook {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice How an order executes.
    /// Limit: matches, then rests (good till cancel, or good till `expiresAt`).
    /// PostOnly: refused if it would match on arrival; otherwise rests like Limit.
    /// ImmediateOrCancel: matches up to its limit price; the remainder is dropped.
    /// FillOrKill: matches its whole quantity in this call or reverts.
    /// Market: ImmediateOrCancel with a worst price (tick 0: the edge of the band).
    enum OrderKind {
        Limit,
        PostOnly,
        ImmediateOrCancel,
        FillOrKill,
        Market
    }

    /// @notice Why (part of) an order left the book without filling.
    enum CancelReason {
        Owner,
        Replaced,
        SelfTrade,
        Unfilled,
        Expired,
        OutOfBand,
        ReduceOnlyClipped,
        Unhealthy,
        SeriesExpired
    }

    /// @notice An order as submitted.
    /// @param seriesId The series.
    /// @param account The account that trades (the caller or an account it operates).
    /// @param isBuy True to buy (go longer), false to sell.
    /// @param kind See `OrderKind`.
    /// @param reduceOnly Never increase the position; reserves no margin.
    /// @param tick Limit price in ticks (worst price for immediate kinds; Market may pass 0).
    /// @param qty Contracts; a non-zero multiple of the series' `minQty`, at most MAX_ORDER_QTY.
    /// @param expiresAt Good-till time in unix seconds for Limit and PostOnly (0: until cancelled).
    /// @param maxFills Most resting orders this order may fill or remove (1 to MAX_FILLS).
    struct OrderParams {
        uint32 seriesId;
        address account;
        bool isBuy;
        OrderKind kind;
        bool reduceOnly;
        uint32 tick;
        uint64 qty;
        uint40 expiresAt;
        uint8 maxFills;
    }

    /// @notice What one `placeOrder` did.
    /// @param orderId Id of the order (0 for immediate kinds, which never rest).
    /// @param filledQty Contracts filled as taker.
    /// @param restingQty Contracts left resting on the book.
    /// @param cancelledQty Contracts of this order cancelled (unfilled remainder, reduce-only clip).
    struct PlaceResult {
        uint256 orderId;
        uint64 filledQty;
        uint64 restingQty;
        uint64 cancelledQty;
    }

    /// @notice A resting order.
    /// @param orderId Its id.
    /// @param account Its owner.
    /// @param seriesId Its series.
    /// @param isBuy Its side.
    /// @param reduceOnly Whether it is reduce-only.
    /// @param tick Its price in ticks.
    /// @param qty Contracts still resting.
    /// @param expiresAt Good-till time (0: until cancelled).
    struct OrderView {
        uint256 orderId;
        address account;
        uint32 seriesId;
        bool isBuy;
        bool reduceOnly;
        uint32 tick;
        uint64 qty;
        uint40 expiresAt;
    }

    /// @notice One price level of one side.
    /// @param tick The price in ticks.
    /// @param qty Contracts resting at this price (sum of its orders).
    /// @param orderCount Orders resting at this price.
    /// @param headOrderId The oldest order (first to fill), 0 when empty.
    struct LevelView {
        uint32 tick;
        uint64 qty;
        uint32 orderCount;
        uint256 headOrderId;
    }

    /// @notice Open orders of an account in a series, summed for its margin reserve.
    /// @param buyQty Contracts of non-reduce-only bids.
    /// @param sellQty Contracts of non-reduce-only asks.
    /// @param buyTickQty Sum of qty x tick of those bids.
    /// @param sellTickQty Sum of qty x tick of those asks.
    /// @param openOrders Resting orders of any kind, reduce-only included.
    /// @param sequence Orders with an id the account has placed in this series.
    struct ExposureView {
        uint32 buyQty;
        uint32 sellQty;
        uint64 buyTickQty;
        uint64 sellTickQty;
        uint32 openOrders;
        uint32 sequence;
    }

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice Thrown when a tick is 0 or above MAX_TICK.
    error TickOutOfRange(uint32 seriesId, uint256 tick, uint256 maxTick);
    /// @notice Thrown when a quantity is not a multiple of the series' lot (`minQty`).
    error QtyNotMultipleOfLot(uint32 seriesId, uint256 qty, uint256 lotQty);
    /// @notice Thrown when an order quantity is above MAX_ORDER_QTY.
    error QtyTooLarge(uint32 seriesId, uint256 qty, uint256 maxQty);
    /// @notice Thrown when `maxFills` is 0 or above MAX_FILLS.
    error MaxFillsOutOfRange(uint256 maxFills, uint256 maxAllowed);
    /// @notice Thrown when a good-till time is not in the future, or given for an immediate kind.
    error OrderExpiryInvalid(uint256 expiresAt, uint256 nowSec);
    /// @notice Thrown when a post-only order would match on arrival.
    error PostOnlyWouldCross(uint32 seriesId, uint256 tick, uint256 bestOppositeTick);
    /// @notice Thrown when a fill-or-kill order cannot fill its whole quantity in one call.
    error FillOrKillUnfilled(uint32 seriesId, uint256 filledQty, uint256 qty);
    /// @notice Thrown when a reduce-only order has no opposite position to reduce.
    error ReduceOnlyNothingToReduce(address account, uint32 seriesId, int256 sizeQty);
    /// @notice Thrown when an account already has MAX_OPEN_ORDERS resting orders in a series.
    error TooManyOpenOrders(address account, uint32 seriesId, uint256 maxOrders);
    /// @notice Thrown when an account's resting quantity on one side of a series would exceed its maximum.
    error OpenQtyTooLarge(address account, uint32 seriesId, uint256 openQty, uint256 maxQty);
    /// @notice Thrown when an order id does not name a resting order.
    error OrderNotFound(uint256 orderId);
    /// @notice Thrown when a replacement names another series or account than the order it replaces.
    error ReplaceMismatch(uint256 orderId, uint32 seriesId, address account);
    /// @notice Thrown when a stranger cancels the orders of an account that is live and at or above maintenance margin.
    error AccountNotBelowMaintenance(address account, int256 equityX18, uint256 maintenanceMarginX18);

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice Emitted when a Limit or PostOnly order is accepted, before it matches.
    /// @param priceX18 Limit price (tick x tick size).
    /// @param qty Contracts ordered (after a reduce-only clip).
    /// @param expiresAt Good-till time (0: until cancelled).
    event OrderPlaced(
        uint32 indexed seriesId,
        uint256 indexed orderId,
        address indexed account,
        bool isBuy,
        OrderKind kind,
        bool reduceOnly,
        uint256 priceX18,
        uint256 qty,
        uint256 expiresAt
    );
    /// @notice Emitted for every fill of a resting (maker) order.
    /// @param takerOrderId The taker's order id (0 for immediate kinds).
    /// @param takerIsBuy True when the taker bought.
    /// @param priceX18 The maker's price.
    /// @param qty Contracts filled.
    /// @param makerFeeX18 Fee charged to the maker (negative: rebate paid).
    /// @param takerFeeX18 Fee charged to the taker.
    event OrderFilled(
        uint32 indexed seriesId,
        uint256 indexed makerOrderId,
        address indexed maker,
        address taker,
        uint256 takerOrderId,
        bool takerIsBuy,
        uint256 priceX18,
        uint256 qty,
        int256 makerFeeX18,
        uint256 takerFeeX18
    );
    /// @notice Emitted when (part of) an order leaves without filling.
    /// @param cancelledQty Contracts removed; the order is gone when nothing else of it rests.
    event OrderCancelled(
        uint32 indexed seriesId,
        uint256 indexed orderId,
        address indexed account,
        uint256 cancelledQty,
        CancelReason reason
    );
    /// @notice Emitted once per taker order that filled anything.
    /// @param filledQty Contracts filled in total.
    /// @param notionalX18 Notional of those fills (qty x price x multiplier).
    /// @param takerFeeX18 Fees the taker paid on them.
    event TakerOrderFilled(
        uint32 indexed seriesId,
        address indexed taker,
        uint256 takerOrderId,
        bool isBuy,
        uint256 filledQty,
        uint256 notionalX18,
        uint256 takerFeeX18
    );

    // ---------------------------------------------------------------------------------------
    // Trading
    // ---------------------------------------------------------------------------------------

    /// @notice Places an order for `params.account` (the caller or an account it operates).
    /// @dev Reverts unless: the series is listed and not expired; the tick, quantity, expiry and
    /// maxFills are valid; a resting kind's price lies within the band around the mark; a post-only
    /// order does not cross; a fill-or-kill order fills completely; and (unless reduce-only) the exchange
    /// is not paused, the index is fresh, and the account ends at or above initial margin including
    /// the reserve of its resting orders. Immediate kinds' worst prices are clipped to the band.
    /// Warning: resting orders of other accounts are filled or removed in this call, at most `maxFills`.
    /// @param params The order.
    /// @return result What happened: id, filled, resting and cancelled quantities.
    function placeOrder(OrderParams calldata params) external returns (PlaceResult memory result);

    /// @notice Cancels a resting order (its owner or operator).
    /// @param orderId The order.
    function cancelOrder(uint256 orderId) external;

    /// @notice Cancels every resting order of `account` in a series. Its owner or operator may always;
    /// anyone may once the account is below maintenance margin or the series has expired.
    /// @param account The account.
    /// @param seriesId The series.
    /// @return cancelledCount Orders cancelled.
    function cancelAllOrders(address account, uint32 seriesId) external returns (uint256 cancelledCount);

    /// @notice Cancels `orderId` and places `params` in one call; the new order keeps no priority.
    /// @param orderId The order to cancel (same series and account as `params`).
    /// @param params The new order.
    /// @return result What the new order did.
    function replaceOrder(uint256 orderId, OrderParams calldata params) external returns (PlaceResult memory result);

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice A resting order; reverts with `OrderNotFound` when it does not rest.
    function orderOf(uint256 orderId) external view returns (OrderView memory order);

    /// @notice A price level of one side of a series' book (zero quantities when empty).
    function levelOf(uint32 seriesId, bool isBuy, uint32 tick) external view returns (LevelView memory level);

    /// @notice The best active tick of a side at or beyond `fromTick` (bids: at or below, asks: at or above).
    /// @return tick The tick found.
    /// @return found False when no level is active there.
    function nextActiveTick(
        uint32 seriesId,
        bool isBuy,
        uint32 fromTick
    ) external view returns (uint32 tick, bool found);

    /// @notice The id of the order behind `orderId` in its level's queue (0 at the tail).
    function nextOrderIdOf(uint256 orderId) external view returns (uint256 nextOrderId);

    /// @notice Ids of every resting order of `account` in a series.
    function openOrderIdsOf(address account, uint32 seriesId) external view returns (uint256[] memory orderIds);

    /// @notice Sums of `account`'s open orders in a series.
    function exposureOf(address account, uint32 seriesId) external view returns (ExposureView memory exposure);
}
