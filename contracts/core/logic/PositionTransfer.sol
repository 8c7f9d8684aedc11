// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IOrderBook} from "../../interfaces/IOrderBook.sol";
import {PositionMath} from "../../libraries/PositionMath.sol";
import {SeriesSet} from "../../libraries/SeriesSet.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {OrderQueue} from "./OrderQueue.sol";
import {TradeLogic} from "./TradeLogic.sol";

/// @title PositionTransfer
/// @notice What liquidation and deleveraging share: cancelling every resting order of an account,
/// moving contracts between two accounts at the mark, and the insurance fund's cover of a deficit.
/// Internal functions only: they are compiled into their callers.
library PositionTransfer {
    using SafeCast for int256;

    /// @notice Cancels every resting order of `account` in every series (reason Unhealthy).
    function cancelAllOrdersOf(S.Layout storage s, address account) internal {
        uint256 set = s.accounts[account].seriesSet;
        uint256 accountRef = uint256(s.accountIds[account]) << 8;
        for (uint256 lane = 0; lane < SeriesSet.CAPACITY; ++lane) {
            uint32 seriesId = uint32(set >> (32 * lane));
            if (seriesId == 0) continue;
            uint256 slots = s.exposures[account][seriesId].slotBitmap;
            S.Book storage book = s.books[seriesId];
            for (uint256 slot = 0; slots != 0; ++slot) {
                if (slots & (1 << slot) == 0) continue;
                slots &= ~(1 << slot);
                uint256 ref = accountRef | slot;
                OrderQueue.remove(s, seriesId, ref, book.orders[ref], account, IOrderBook.CancelReason.Unhealthy);
            }
        }
    }

    /// @notice Moves `qty` contracts at the mark: `from`'s position changes by `fromDeltaQty` and `to`'s
    /// by the opposite. Updates both accounts' series sets and open interest (which cannot rise: `from`
    /// only reduces). Returns the PnL each side realized into its cash.
    function moveAtMark(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        address from,
        address to,
        int256 fromDeltaQty
    ) internal returns (int256 fromRealizedX18, int256 toRealizedX18) {
        int256 longChange;
        (fromRealizedX18, longChange) = _apply(s, ctx, from, fromDeltaQty);
        int256 toLongChange;
        (toRealizedX18, toLongChange) = _apply(s, ctx, to, -fromDeltaQty);
        TradeLogic.updateOpenInterest(s, ctx, longChange + toLongChange);
    }

    /// @notice Pays up to `deficitX18` out of the insurance fund into `account`'s cash; returns what it paid.
    function payFromInsurance(S.Layout storage s, address account, uint256 deficitX18) internal returns (uint256 paid) {
        uint256 fund = s.insuranceFundX18;
        paid = deficitX18 < fund ? deficitX18 : fund;
        s.insuranceFundX18 = fund - paid;
        s.accounts[account].cashX18 += int256(paid);
    }

    /// @notice True when `account` holds no position outside `exceptSeriesId` (its orders aside).
    function flatOutside(S.Layout storage s, address account, uint32 exceptSeriesId) internal view returns (bool) {
        uint256 set = s.accounts[account].seriesSet;
        for (uint256 lane = 0; lane < SeriesSet.CAPACITY; ++lane) {
            uint32 seriesId = uint32(set >> (32 * lane));
            if (seriesId == 0 || seriesId == exceptSeriesId) continue;
            if (s.positions[account][seriesId].sizeQty != 0) return false;
        }
        return true;
    }

    function _apply(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        address account,
        int256 deltaQty
    ) private returns (int256 realizedX18, int256 longChange) {
        IClearinghouse.Position storage position = s.positions[account][ctx.seriesId];
        int256 oldSize = position.sizeQty;
        int256 newSize;
        int256 newOpen;
        (newSize, newOpen, realizedX18) = PositionMath.applyTrade(
            oldSize,
            position.openNotionalX18,
            deltaQty,
            ctx.markX18,
            ctx.spec.contractMultiplier
        );
        s.positions[account][ctx.seriesId] = IClearinghouse.Position(newSize.toInt64(), newOpen.toInt192());
        if (realizedX18 != 0) s.accounts[account].cashX18 += realizedX18;
        if (oldSize == 0) {
            S.joinSeries(s, account, ctx.seriesId);
        } else if (newSize == 0) {
            S.leaveSeriesIfIdle(s, account, ctx.seriesId);
        }
        longChange = TradeLogic.longSizeChange(oldSize, newSize);
    }
}
