// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../interfaces/IClearinghouse.sol";
import {PositionMath} from "../libraries/PositionMath.sol";
import {SeriesSet} from "../libraries/SeriesSet.sol";

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
    }

    /// @dev Reverts with `UnknownSeries` unless `seriesId` is listed.
    function requireSeries(Layout storage s, uint32 seriesId) internal view returns (SeriesRecord storage) {
        if (seriesId == 0 || seriesId > s.seriesCount) revert IClearinghouse.UnknownSeries(seriesId);
        return s.series[seriesId];
    }

    /// @dev A proposed price is final from the end of its dispute window on.
    function statusAt(
        IClearinghouse.SettlementStatus stored,
        uint256 finalAt
    ) internal view returns (IClearinghouse.SettlementStatus) {
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

    /// @dev Lazy settlement: closes every position of `account` in a series whose settlement is final.
    function settleFinalSeries(Layout storage s, address account) internal {
        uint256 set = s.accounts[account].seriesSet;
        if (set == 0) return;
        for (uint256 lane = 0; lane < SeriesSet.CAPACITY; ++lane) {
            uint32 seriesId = uint32(set >> (32 * lane));
            if (seriesId == 0) continue;
            IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
            if (effectiveStatus(settlement) != IClearinghouse.SettlementStatus.Final) continue;
            settlePosition(s, account, seriesId, settlement.priceX18, s.series[seriesId].spec.contractMultiplier);
        }
    }
}
