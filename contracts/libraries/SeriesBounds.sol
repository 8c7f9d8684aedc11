// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../interfaces/IClearinghouse.sol";

/// @title SeriesBounds
/// @notice The hard bounds of every series and global parameter of the clearinghouse. No role can
/// set a value outside them; each violation reverts with `ParamOutOfBounds(name, value, min, max)`.
library SeriesBounds {
    /// @notice Furthest expiry from listing time.
    uint256 internal constant MAX_TIME_TO_EXPIRY_SEC = 400 days;
    /// @notice Shortest averaging window (30 minutes, as dated crypto futures).
    uint256 internal constant MIN_AVERAGING_WINDOW_SEC = 30 minutes;
    /// @notice Longest averaging window: inside the oracle's guaranteed history of 42.7 days.
    uint256 internal constant MAX_AVERAGING_WINDOW_SEC = 35 days;
    /// @notice Most oracle rounds a window can require (the oracle's history capacity).
    uint256 internal constant MAX_SETTLEMENT_ROUNDS = 4096;
    uint256 internal constant MAX_CONTRACT_MULTIPLIER = 1e9;
    uint256 internal constant MAX_TICK_SIZE_X18 = 1e22;
    uint256 internal constant MAX_MIN_QTY = 1e9;
    uint256 internal constant MIN_MM_BPS = 50;
    uint256 internal constant MAX_MM_BPS = 5_000;
    uint256 internal constant MAX_IM_BPS = 10_000;
    uint256 internal constant MIN_ORDER_BAND_BPS = 10;
    uint256 internal constant MAX_ORDER_BAND_BPS = 5_000;
    uint256 internal constant MAX_TAKER_FEE_BPS = 100;
    uint256 internal constant MAX_MAKER_FEE_BPS = 100;
    uint256 internal constant MAX_POSITION_LIMIT_QTY = 1e12;
    uint256 internal constant MAX_OPEN_INTEREST_CAP_QTY = 1e15;

    /// @notice Checks the fixed part of a series at listing time `nowSec`.
    function checkSpec(IClearinghouse.SeriesSpec calldata spec, uint256 nowSec) internal pure {
        checkRange("expiry", spec.expiry, nowSec + 1, nowSec + MAX_TIME_TO_EXPIRY_SEC);
        checkRange("averagingWindowSec", spec.averagingWindowSec, MIN_AVERAGING_WINDOW_SEC, MAX_AVERAGING_WINDOW_SEC);
        checkRange("methodologyVersion", spec.methodologyVersion, 1, type(uint16).max);
        checkRange("minSettlementRounds", spec.minSettlementRounds, 1, MAX_SETTLEMENT_ROUNDS);
        checkRange("contractMultiplier", spec.contractMultiplier, 1, MAX_CONTRACT_MULTIPLIER);
        checkRange("tickSizeX18", spec.tickSizeX18, 1, MAX_TICK_SIZE_X18);
        checkRange("minQty", spec.minQty, 1, MAX_MIN_QTY);
    }

    /// @notice Checks risk parameters of a series whose minimum quantity is `minQty`.
    function checkRisk(IClearinghouse.RiskParams calldata risk, uint256 minQty) internal pure {
        checkRange("mmBps", risk.mmBps, MIN_MM_BPS, MAX_MM_BPS);
        checkRange("imBps", risk.imBps, uint256(risk.mmBps) + 1, MAX_IM_BPS);
        checkRange("orderBandBps", risk.orderBandBps, MIN_ORDER_BAND_BPS, MAX_ORDER_BAND_BPS);
        checkRange("liquidationPenaltyBps", risk.liquidationPenaltyBps, 0, risk.mmBps);
        checkRange("takerFeeBps", risk.takerFeeBps, 0, MAX_TAKER_FEE_BPS);
        int256 makerFeeBps = risk.makerFeeBps;
        int256 minMakerFeeBps = -int256(uint256(risk.takerFeeBps));
        if (makerFeeBps < minMakerFeeBps || makerFeeBps > int256(MAX_MAKER_FEE_BPS)) {
            int256 maxMakerFeeBps = int256(MAX_MAKER_FEE_BPS);
            revert IClearinghouse.ParamOutOfBounds("makerFeeBps", makerFeeBps, minMakerFeeBps, maxMakerFeeBps);
        }
        checkRange("positionLimitQty", risk.positionLimitQty, minQty, MAX_POSITION_LIMIT_QTY);
        checkRange("openInterestCapQty", risk.openInterestCapQty, minQty, MAX_OPEN_INTEREST_CAP_QTY);
    }

    /// @notice Reverts with `ParamOutOfBounds` unless min <= value <= max.
    function checkRange(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) {
            revert IClearinghouse.ParamOutOfBounds(name, int256(value), int256(min), int256(max));
        }
    }
}
