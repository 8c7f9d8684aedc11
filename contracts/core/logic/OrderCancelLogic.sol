// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {IOrderBook} from "../../interfaces/IOrderBook.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {MarginLogic} from "./MarginLogic.sol";
import {OrderQueue} from "./OrderQueue.sol";

/// @title OrderCancelLogic
/// @notice Cancels resting orders: one by its owner or operator, or all of an account in a series
/// (by anyone once the account is below maintenance margin or the series has expired). Stateless;
/// runs over the clearinghouse's storage.
library OrderCancelLogic {
    /// @notice See `IOrderBook.cancelOrder`.
    function cancelOrder(S.Layout storage s, uint256 orderId) external {
        (uint32 seriesId, uint256 ref, S.Order memory order) = OrderQueue.requireOrder(s, orderId);
        address account = s.accountsById[uint32(ref >> 8)];
        OrderQueue.requireOwnerOrOperator(s, account);
        OrderQueue.remove(s, seriesId, ref, order, account, IOrderBook.CancelReason.Owner);
    }

    /// @notice See `IOrderBook.cancelAllOrders`.
    function cancelAllOrders(
        S.Layout storage s,
        IIndexOracle oracle,
        address account,
        uint32 seriesId
    ) external returns (uint256 cancelledCount) {
        S.SeriesRecord storage record = S.requireSeries(s, seriesId);
        IOrderBook.CancelReason reason = IOrderBook.CancelReason.Owner;
        if (!OrderQueue.isOwnerOrOperator(s, account)) {
            // Time rule: anyone may cancel the orders of an expired series.
            // solhint-disable-next-line not-rely-on-time
            if (block.timestamp >= record.spec.expiry) {
                reason = IOrderBook.CancelReason.SeriesExpired;
            } else {
                IClearinghouse.AccountHealth memory health = MarginLogic.health(s, oracle, account, 0, 0);
                if (health.equityX18 >= int256(health.maintenanceMarginX18)) {
                    revert IOrderBook.AccountNotBelowMaintenance(
                        account,
                        health.equityX18,
                        health.maintenanceMarginX18
                    );
                }
                reason = IOrderBook.CancelReason.Unhealthy;
            }
        }
        uint256 slots = s.exposures[account][seriesId].slotBitmap;
        uint256 accountRef = uint256(s.accountIds[account]) << 8;
        S.Book storage book = s.books[seriesId];
        for (uint256 slot = 0; slots != 0; ++slot) {
            if (slots & (1 << slot) == 0) continue;
            slots &= ~(1 << slot);
            uint256 ref = accountRef | slot;
            OrderQueue.remove(s, seriesId, ref, book.orders[ref], account, reason);
            ++cancelledCount;
        }
    }
}
