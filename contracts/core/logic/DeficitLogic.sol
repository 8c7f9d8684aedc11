// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {ILiquidation} from "../../interfaces/ILiquidation.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";
import {MarginLogic} from "./MarginLogic.sol";
import {PositionTransfer} from "./PositionTransfer.sol";
import {TradeLogic} from "./TradeLogic.sol";

/// @title DeficitLogic
/// @notice Deficits the insurance fund cannot pay: auto-deleveraging against profitable counterparties,
/// and the fund's cover of a flat account's negative cash (see `ILiquidation`). Stateless; runs over
/// the clearinghouse's storage.
library DeficitLogic {
    /// @notice One closed leg of a deleveraging.
    struct LegResult {
        int256 sizeChangeQty;
        uint256 markX18;
        uint256 profitX18;
    }

    /// @notice See `ILiquidation.deleverage`.
    function deleverage(
        S.Layout storage s,
        IIndexOracle oracle,
        address account,
        ILiquidation.DeleverageLeg[] calldata legs
    ) external {
        S.settleFinalSeries(s, account);
        int256 equityX18 = MarginLogic.health(s, oracle, account, 0, 0).equityX18;
        uint256 fundX18 = s.insuranceFundX18;
        if (equityX18 >= 0 || uint256(-equityX18) <= fundX18) {
            revert ILiquidation.DeleverageNotAllowed(account, equityX18, fundX18);
        }
        PositionTransfer.cancelAllOrdersOf(s, account);
        (LegResult[] memory results, uint256 totalProfitX18) = _closeLegs(s, oracle, account, legs);
        if (s.accounts[account].seriesSet != 0) revert ILiquidation.DeleverageIncomplete(account);
        // Flat: the account's cash is its equity (every close was at the mark), so the deficit is exact.
        uint256 deficitX18 = uint256(-s.accounts[account].cashX18);
        uint256 fromInsuranceX18 = PositionTransfer.payFromInsurance(s, account, deficitX18);
        uint256 shortfallX18 = deficitX18 - fromInsuranceX18;
        if (shortfallX18 > totalProfitX18) {
            revert ILiquidation.DeleverageProfitShort(account, shortfallX18, totalProfitX18);
        }
        _haircut(s, account, legs, results, shortfallX18, totalProfitX18);
        for (uint256 i = 0; i < legs.length; ++i) {
            int256 counterpartyEquityX18 = MarginLogic.health(s, oracle, legs[i].counterparty, 0, 0).equityX18;
            if (counterpartyEquityX18 < 0) {
                revert ILiquidation.CounterpartyEquityNegative(legs[i].counterparty, counterpartyEquityX18);
            }
        }
        emit ILiquidation.DeficitResolved(account, deficitX18, fromInsuranceX18, shortfallX18, 0);
    }

    /// @notice See `ILiquidation.coverDeficit`.
    function coverDeficit(S.Layout storage s, address account) external {
        S.settleFinalSeries(s, account);
        S.Account storage acct = s.accounts[account];
        int256 cashX18 = acct.cashX18;
        if (cashX18 >= 0 || !PositionTransfer.flatOutside(s, account, 0)) revert ILiquidation.NoDeficit(account);
        PositionTransfer.cancelAllOrdersOf(s, account);
        uint256 deficitX18 = uint256(-cashX18);
        // An empty fund pays nothing: refuse rather than emit an event that moves no value.
        if (s.insuranceFundX18 == 0) revert ILiquidation.InsuranceFundShort(account, deficitX18, 0);
        uint256 paidX18 = PositionTransfer.payFromInsurance(s, account, deficitX18);
        emit ILiquidation.DeficitResolved(account, deficitX18, paidX18, 0, deficitX18 - paidX18);
    }

    /// @dev Closes each leg at its series' mark; returns each leg's size change, mark and the counterparty's profit.
    function _closeLegs(
        S.Layout storage s,
        IIndexOracle oracle,
        address account,
        ILiquidation.DeleverageLeg[] calldata legs
    ) private returns (LegResult[] memory results, uint256 totalProfitX18) {
        results = new LegResult[](legs.length);
        TradeLogic.TradeContext memory ctx;
        for (uint256 i = 0; i < legs.length; ++i) {
            ILiquidation.DeleverageLeg calldata leg = legs[i];
            if (leg.seriesId != ctx.seriesId) {
                ctx = TradeLogic.context(s, oracle, leg.seriesId, false);
                if (ctx.indexStale) revert IClearinghouse.IndexStale(leg.seriesId, ctx.indexObservedAt);
            }
            results[i] = _closeLeg(s, ctx, account, leg);
            totalProfitX18 += results[i].profitX18;
        }
    }

    /// @dev Closes min(bankrupt size, counterparty size) of one leg at the mark; the counterparty must profit.
    function _closeLeg(
        S.Layout storage s,
        TradeLogic.TradeContext memory ctx,
        address account,
        ILiquidation.DeleverageLeg calldata leg
    ) private returns (LegResult memory) {
        int256 bankruptSize = s.positions[account][leg.seriesId].sizeQty;
        int256 counterpartySize = s.positions[leg.counterparty][leg.seriesId].sizeQty;
        if (
            bankruptSize == 0 ||
            leg.counterparty == account ||
            counterpartySize == 0 ||
            (bankruptSize > 0) == (counterpartySize > 0)
        ) revert ILiquidation.CounterpartyNotOpposite(leg.counterparty, leg.seriesId);
        uint256 qty = FixedPointMath.abs(bankruptSize);
        uint256 counterpartyQty = FixedPointMath.abs(counterpartySize);
        if (counterpartyQty < qty) qty = counterpartyQty;
        int256 sizeChangeQty = bankruptSize > 0 ? -int256(qty) : int256(qty);
        (, int256 profitX18) = PositionTransfer.moveAtMark(s, ctx, account, leg.counterparty, sizeChangeQty);
        if (profitX18 <= 0) revert ILiquidation.CounterpartyNotInProfit(leg.counterparty, leg.seriesId, profitX18);
        return LegResult(sizeChangeQty, ctx.markX18, uint256(profitX18));
    }

    /// @dev Takes `shortfallX18` from the counterparties pro rata to their profit, exact to the unit:
    /// leg i pays floor(S x P_<=i / P) - floor(S x P_<i / P), which sums to S and never exceeds its profit.
    function _haircut(
        S.Layout storage s,
        address account,
        ILiquidation.DeleverageLeg[] calldata legs,
        LegResult[] memory results,
        uint256 shortfallX18,
        uint256 totalProfitX18
    ) private {
        uint256 cumulativeProfitX18 = 0;
        uint256 takenX18 = 0;
        for (uint256 i = 0; i < legs.length; ++i) {
            LegResult memory result = results[i];
            cumulativeProfitX18 += result.profitX18;
            uint256 upToX18 = FixedPointMath.mulDivDown(shortfallX18, cumulativeProfitX18, totalProfitX18);
            uint256 haircutX18 = upToX18 - takenX18;
            takenX18 = upToX18;
            s.accounts[legs[i].counterparty].cashX18 -= int256(haircutX18);
            s.accounts[account].cashX18 += int256(haircutX18);
            emit ILiquidation.Deleveraged(
                account,
                legs[i].counterparty,
                legs[i].seriesId,
                result.sizeChangeQty,
                result.markX18,
                haircutX18
            );
        }
    }
}
