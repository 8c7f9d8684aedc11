// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../interfaces/IClearinghouse.sol";
import {PositionMath} from "../libraries/PositionMath.sol";
import {SeriesSet} from "../libraries/SeriesSet.sol";
import {TickBitmap} from "../libraries/TickBitmap.sol";

/// @title ClearinghouseStorage
/// @notice The clearinghouse's whole state in one struct, shared by the contract and its stateless
/// `...Logic` libraries (which run by delegatecall over this storage and hold nothing themselves).
library ClearinghouseStorage {
    /// @dev One account: realized cash (may be negative) and the packed set of series it holds.
    struct Account {
        int256 cashX18;
        uint256 seriesSet;
    }

    /// @dev One series: its fixed spec and its risk parameters.
    struct SeriesRecord {
        IClearinghouse.SeriesSpec spec;
        IClearinghouse.RiskParams risk;
    }

    /// @dev One resting order in one storage word. `prev` and `next` link the FIFO queue of its level
    /// by order ref (account id << 8 | slot); 0 ends the queue. `flags`: FLAG_BUY, FLAG_REDUCE_ONLY.
    struct Order {
        uint32 qty;
        uint32 tick;
        uint8 flags;
        uint40 expiresAt;
        uint40 prev;
        uint40 next;
        uint32 sequence;
    }

    /// @dev One price level: its FIFO queue (oldest at `head`) and the sum of its orders.
    struct Level {
        uint40 head;
        uint40 tail;
        uint64 qty;
        uint32 orderCount;
    }

    /// @dev One side of a book: active ticks and their levels.
    struct Side {
        TickBitmap.Bitmap ticks;
        mapping(uint256 tick => Level) levels;
    }

    /// @dev The book of one series. Orders are keyed by ref; an account's ref slots are reused.
    struct Book {
        Side bids;
        Side asks;
        mapping(uint256 ref => Order) orders;
    }

    /// @dev An account's open orders in one series, summed for its margin reserve (reduce-only
    /// orders are not summed), the order slots in use (bit i: slot i), and its order sequence.
    struct Exposure {
        uint32 buyQty;
        uint32 sellQty;
        uint64 buyTickQty;
        uint64 sellTickQty;
        uint32 slotBitmap;
        uint32 sequence;
    }

    /// @dev The oracle TWAP of a series' averaging window from its start to `observedUntil`, cached
    /// by the first trade after each oracle round; `averageX18` 0 means the oracle could not average.
    struct WindowAverage {
        uint64 observedUntil;
        uint192 averageX18;
    }

    /// @dev Everything the clearinghouse stores.
    struct Layout {
        mapping(address account => Account) accounts;
        mapping(address account => mapping(uint32 seriesId => IClearinghouse.Position)) positions;
        mapping(address owner => mapping(address operator => bool)) operators;
        mapping(uint32 seriesId => SeriesRecord) series;
        mapping(uint32 seriesId => IClearinghouse.MarketState) markets;
        mapping(uint32 seriesId => IClearinghouse.Settlement) settlements;
        mapping(bytes32 symbol => uint32 seriesId) seriesIdBySymbol;
        uint32 seriesCount;
        uint32 disputeWindowSec;
        uint32 governanceGraceSec;
        uint16 insuranceFeeShareBps;
        uint256 insuranceFundX18;
        uint256 feePoolX18;
        mapping(uint32 seriesId => Book) books;
        mapping(address account => mapping(uint32 seriesId => Exposure)) exposures;
        mapping(address account => uint32 accountId) accountIds;
        mapping(uint32 accountId => address account) accountsById;
        uint32 accountCount;
        mapping(uint32 seriesId => WindowAverage) windowAverages;
    }

    /// @dev Order flag: a bid.
    uint8 internal constant FLAG_BUY = 1;
    /// @dev Order flag: reduce-only.
    uint8 internal constant FLAG_REDUCE_ONLY = 2;

    /// @dev Reverts with `UnknownSeries` unless `seriesId` is listed.
    function requireSeries(Layout storage s, uint32 seriesId) internal view returns (SeriesRecord storage) {
        if (seriesId == 0 || seriesId > s.seriesCount) revert IClearinghouse.UnknownSeries(seriesId);
        return s.series[seriesId];
    }

    /// @dev The record of `seriesId`, all zero when it is not listed (the caller checks a spec field).
    /// Trades read the record through this function: reading the mapping inline made the optimizer load
    /// the spec and risk words field by field (13 more storage reads per trade).
    function listedOrBlank(Layout storage s, uint32 seriesId) internal view returns (SeriesRecord storage) {
        return s.series[seriesId];
    }

    /// @dev A proposed price is final from the end of its dispute window on.
    function statusAt(
        IClearinghouse.SettlementStatus stored,
        uint256 finalAt
    ) internal view returns (IClearinghouse.SettlementStatus) {
        // Time rule: a proposed settlement price is final once its dispute window has passed.
        // solhint-disable-next-line not-rely-on-time
        if (stored == IClearinghouse.SettlementStatus.Proposed && block.timestamp >= finalAt) {
            return IClearinghouse.SettlementStatus.Final;
        }
        return stored;
    }

    /// @dev The effective status of a stored settlement.
    function effectiveStatus(
        IClearinghouse.Settlement storage settlement
    ) internal view returns (IClearinghouse.SettlementStatus) {
        return statusAt(settlement.status, settlement.finalAt);
    }

    /// @dev Closes `account`'s position at the settlement price into its cash; false when it has none.
    function settlePosition(
        Layout storage s,
        address account,
        uint32 seriesId,
        uint256 priceX18,
        uint256 multiplier
    ) internal returns (bool) {
        IClearinghouse.Position storage position = s.positions[account][seriesId];
        int256 sizeQty = position.sizeQty;
        if (sizeQty == 0) return false;
        int256 pnlX18 = PositionMath.unrealizedPnlX18(sizeQty, position.openNotionalX18, priceX18, multiplier);
        delete s.positions[account][seriesId];
        Account storage acct = s.accounts[account];
        acct.cashX18 += pnlX18;
        acct.seriesSet = SeriesSet.remove(acct.seriesSet, seriesId);
        // Safe: a long size is part of open interest, which is the sum of all long sizes.
        if (sizeQty > 0) s.markets[seriesId].openInterestQty -= uint64(uint256(sizeQty));
        emit IClearinghouse.AccountSettled(account, seriesId, sizeQty, pnlX18);
        return true;
    }

    /// @dev Adds `seriesId` to `account`'s set of series (no-op when present); reverts when the set is full.
    function joinSeries(Layout storage s, address account, uint32 seriesId) internal {
        Account storage acct = s.accounts[account];
        uint256 set = acct.seriesSet;
        if (SeriesSet.contains(set, seriesId)) return;
        (uint256 updated, bool ok) = SeriesSet.add(set, seriesId);
        if (!ok) revert IClearinghouse.TooManySeries(account, SeriesSet.CAPACITY);
        acct.seriesSet = updated;
    }

    /// @dev Removes `seriesId` from `account`'s set once it holds neither a position nor a resting order there.
    function leaveSeriesIfIdle(Layout storage s, address account, uint32 seriesId) internal {
        if (s.positions[account][seriesId].sizeQty != 0 || s.exposures[account][seriesId].slotBitmap != 0) return;
        Account storage acct = s.accounts[account];
        acct.seriesSet = SeriesSet.remove(acct.seriesSet, seriesId);
    }

    /// @dev Lazy settlement: closes every position of `account` in a series whose settlement is final.
    function settleFinalSeries(Layout storage s, address account) internal {
        uint256 set = s.accounts[account].seriesSet;
        if (set == 0) return;
        for (uint256 lane = 0; lane < SeriesSet.CAPACITY; ++lane) {
            uint32 seriesId = uint32(set >> (32 * lane));
            if (seriesId == 0) continue;
            // A settlement is proposed only after expiry: before it, the settlement word need not be read
            // (the traded series' spec word is already warm, so a trade saves a cold read).
            // solhint-disable-next-line not-rely-on-time
            if (block.timestamp < s.series[seriesId].spec.expiry) continue;
            IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
            if (effectiveStatus(settlement) != IClearinghouse.SettlementStatus.Final) continue;
            if (
                !settlePosition(s, account, seriesId, settlement.priceX18, s.series[seriesId].spec.contractMultiplier)
            ) {
                // Only void orders of the settled series were left: the account leaves it.
                Account storage acct = s.accounts[account];
                acct.seriesSet = SeriesSet.remove(acct.seriesSet, seriesId);
            }
        }
    }
}
