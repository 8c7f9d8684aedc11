// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ILiquidation
/// @notice Liquidation of accounts below maintenance margin, the insurance fund's cover of deficits,
/// and auto-deleveraging (ADL) when the fund is short. Built into the clearinghouse.
/// @dev Liquidation. Anyone with a margin account (the caller, "the liquidator") may liquidate an
/// account whose equity is below its maintenance margin. All of the account's resting orders are
/// cancelled first (every series). The liquidator then takes over part of the account's position in
/// one series at the mark price: the fewest whole lots that bring the account back to at least its
/// maintenance margin. It takes all of the position instead when the position's notional at the mark
/// is at most SMALL_POSITION_NOTIONAL_X18, or when the account is too deep for a partial liquidation
/// to raise its margin ratio (equity x mmBps <= penaltyBps x maintenance margin, which includes
/// equity <= 0). A penalty of `liquidationPenaltyBps` of the notional taken over is charged to the
/// account, capped at its remaining equity (an account with no equity pays none); the liquidator
/// receives LIQUIDATOR_PENALTY_SHARE_BPS of it and the insurance fund the rest. The liquidator must
/// be at or above initial margin afterwards. No pause stops a liquidation; a stale index does.
///
/// Deficits. When a liquidation closes an account's last position and its cash is negative, the
/// insurance fund pays the deficit in the same transaction. If the fund cannot pay all of it the
/// liquidation reverts with `InsuranceFundShort` and the account is resolved by `deleverage`: its
/// positions close at the mark against profitable opposite positions chosen off chain, the fund pays
/// all it holds, and the rest of the deficit is taken from the counterparties' realized profit
/// (haircuts pro rata to profit, exact to the unit). Fund decrease + haircuts = deficit exactly.
interface ILiquidation {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice One liquidation of a batch.
    /// @param account The account to liquidate.
    /// @param seriesId The series of the position to take over.
    /// @param maxQty The most contracts the liquidator takes over.
    struct LiquidationRequest {
        address account;
        uint32 seriesId;
        uint64 maxQty;
    }

    /// @notice One counterparty of a deleveraging: its position in `seriesId` closes against the bankrupt's.
    struct DeleverageLeg {
        address counterparty;
        uint32 seriesId;
    }

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice Thrown when liquidating an account at or above its maintenance margin.
    error AccountNotLiquidatable(address account, int256 equityX18, uint256 maintenanceMarginX18);
    /// @notice Thrown when the account has no position in the series.
    error NoPositionToLiquidate(address account, uint32 seriesId);
    /// @notice Thrown when an account tries to liquidate itself.
    error SelfLiquidation(address account);
    /// @notice Thrown when the liquidator's `maxQty` is below what the rules require it to take over.
    error LiquidationQtyTooSmall(address account, uint32 seriesId, uint256 maxQty, uint256 requiredQty);
    /// @notice Thrown when a liquidation would leave a deficit the insurance fund cannot pay (use `deleverage`).
    error InsuranceFundShort(address account, uint256 deficitX18, uint256 insuranceFundX18);
    /// @notice Thrown when deleveraging an account that is not bankrupt beyond the insurance fund.
    error DeleverageNotAllowed(address account, int256 equityX18, uint256 insuranceFundX18);
    /// @notice Thrown when a counterparty is the account itself or holds no opposite position in the series.
    error CounterpartyNotOpposite(address counterparty, uint32 seriesId);
    /// @notice Thrown when closing a counterparty's position at the mark realizes no profit.
    error CounterpartyNotInProfit(address counterparty, uint32 seriesId, int256 realizedPnlX18);
    /// @notice Thrown when a haircut would leave a counterparty with negative equity.
    error CounterpartyEquityNegative(address counterparty, int256 equityX18);
    /// @notice Thrown when the legs leave a position of the bankrupt account open.
    error DeleverageIncomplete(address account);
    /// @notice Thrown when the counterparties' profit is below the deficit left after the insurance fund.
    error DeleverageProfitShort(address account, uint256 shortfallX18, uint256 profitX18);
    /// @notice Thrown when covering the deficit of an account that holds positions or has no negative cash.
    error NoDeficit(address account);

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice Emitted when a liquidator takes over (part of) a position at the mark.
    /// @param sizeChangeQty The liquidated account's position change (the liquidator's is the opposite).
    /// @param penaltyX18 Penalty charged to the account.
    /// @param liquidatorRewardX18 The liquidator's share of the penalty (the rest went to the insurance fund).
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        uint32 indexed seriesId,
        int256 sizeChangeQty,
        uint256 markX18,
        uint256 penaltyX18,
        uint256 liquidatorRewardX18
    );
    /// @notice Emitted when an account's deficit is resolved.
    /// @param deficitX18 The account's negative cash before.
    /// @param fromInsuranceX18 Paid by the insurance fund.
    /// @param fromHaircutsX18 Paid by deleveraged counterparties.
    /// @param uncoveredX18 Left unpaid (only `coverDeficit` with a short fund): it stays as negative cash.
    event DeficitResolved(
        address indexed account,
        uint256 deficitX18,
        uint256 fromInsuranceX18,
        uint256 fromHaircutsX18,
        uint256 uncoveredX18
    );
    /// @notice Emitted per leg of a deleveraging.
    /// @param sizeChangeQty The bankrupt account's position change (the counterparty's is the opposite).
    /// @param haircutX18 Taken from the counterparty's cash toward the deficit.
    event Deleveraged(
        address indexed account,
        address indexed counterparty,
        uint32 indexed seriesId,
        int256 sizeChangeQty,
        uint256 markX18,
        uint256 haircutX18
    );

    // ---------------------------------------------------------------------------------------
    // Functions
    // ---------------------------------------------------------------------------------------

    /// @notice Liquidates `account` in `seriesId`; the caller takes over the position part at the mark.
    /// @param maxQty The most contracts the caller takes over (rounded down to whole lots).
    /// @return qty Contracts taken over.
    function liquidate(address account, uint32 seriesId, uint256 maxQty) external returns (uint256 qty);

    /// @notice Liquidates several accounts; skips requests that do not qualify (healthy account, no
    /// position, expired series, stale index, `maxQty` too small, a deficit the fund cannot pay).
    /// The caller's initial margin is checked once, at the end.
    /// @return liquidatedCount Requests carried out.
    function liquidateBatch(LiquidationRequest[] calldata requests) external returns (uint256 liquidatedCount);

    /// @notice Closes every position of a bankrupt `account` against `legs` at the mark, empties the
    /// insurance fund into its deficit and takes the rest from the counterparties' profit. Anyone.
    /// @dev Needs: equity < 0 and the insurance fund below the deficit. Each leg closes
    /// min(bankrupt size, counterparty size) of the series; every counterparty must be on the other side
    /// and in profit at the mark, and keep non-negative equity; all of the bankrupt's positions must close.
    function deleverage(address account, DeleverageLeg[] calldata legs) external;

    /// @notice Pays the deficit of an account that holds no position and has negative cash (for example
    /// after a settlement loss) out of the insurance fund, as far as the fund goes. Anyone.
    /// @dev Reverts with `InsuranceFundShort` when the fund is empty. What the fund cannot pay stays as
    /// the account's negative cash, reported in `DeficitResolved.uncoveredX18` (see docs/liquidation.md).
    function coverDeficit(address account) external;
}
