// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILiquidation} from "./ILiquidation.sol";
import {IOrderBook} from "./IOrderBook.sol";

/// @title IClearinghouse
/// @notice The exchange's one holder of collateral: a vault of one ERC-20 token, cross-margin
/// accounts, futures series on index feeds, positions and PnL, fees, the insurance fund, the mark
/// price and expiry settlement. Every movement of value goes through it.
/// @dev Units. Money inside the contract is 18-decimal fixed point of USD (`...X18`, one unit of
/// collateral = 1 USD); token amounts at the edge are in the token's own decimals (`...Raw`) and
/// are converted in exactly one place (deposit and withdrawal, exact in both directions because
/// only whole raw units cross the edge). Prices are `...X18` in USD per index unit. Quantities are
/// whole contracts (`qty`, unsigned) and positions are signed (`sizeQty`: long > 0, short < 0).
/// Notional of `qty` contracts at `priceX18` = qty x priceX18 x contractMultiplier (exact).
///
/// Rounding goes against the account: margin requirements and fees round up, rebates and
/// realized PnL round down. The only rounding in PnL is the split of a position's cost basis
/// when part of it closes; it moves value between realized and unrealized PnL of the same
/// account and never between accounts, so the PnL of all accounts of a series sums to zero exactly.
///
/// Assumptions. Correctness: the index oracle's reporters are honest in majority; the collateral
/// token moves exactly the amounts asked (checked on every transfer). Positions change only through
/// the built-in order book (`IOrderBook`), on orders their owners or operators placed, through
/// liquidation and deleveraging of accounts that qualify (`ILiquidation`), and through settlement.
/// Liveness: the oracle publishes within each feed's max age; someone calls `finalizeSettlement`
/// after expiry (anyone may).
interface IClearinghouse is IOrderBook, ILiquidation {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice What a series is; fixed at listing.
    /// @param symbol Display name, e.g. bytes32("AIT-2026-12"); unique.
    /// @param feedId The index oracle feed of the underlying.
    /// @param expiry Unix time at which trading stops and the averaging window ends.
    /// @param averagingWindowSec Length of the averaging window that ends at expiry (30 min to 35 days).
    /// @param methodologyVersion The index methodology version the series settles on.
    /// @param minSettlementRounds Fewest oracle rounds inside the window for an automatic settlement.
    /// @param contractMultiplier USD of notional per 1.0 of index per contract (1,000 for AIT and GPUH).
    /// @param tickSizeX18 Price increment of orders and fills.
    /// @param minQty Smallest order quantity and smallest position change, in contracts.
    struct SeriesSpec {
        bytes32 symbol;
        bytes32 feedId;
        uint64 expiry;
        uint32 averagingWindowSec;
        uint16 methodologyVersion;
        uint16 minSettlementRounds;
        uint32 contractMultiplier;
        uint128 tickSizeX18;
        uint64 minQty;
    }

    /// @notice Risk parameters of a series; changeable by the market admin within hard bounds.
    /// @param imBps Initial margin, bps of notional at mark.
    /// @param mmBps Maintenance margin, bps of notional at mark (below `imBps`).
    /// @param orderBandBps Fills stay within this many bps of the mark, and the mark's basis within this many
    /// bps of the index.
    /// @param liquidationPenaltyBps Penalty of a liquidation, bps of the notional taken over.
    /// @param makerFeeBps Maker fee in bps of notional; negative is a rebate, never more than the taker fee.
    /// @param takerFeeBps Taker fee in bps of notional.
    /// @param positionLimitQty Largest absolute position of one account, in contracts.
    /// @param openInterestCapQty Largest open interest (sum of long sizes), in contracts.
    struct RiskParams {
        uint16 imBps;
        uint16 mmBps;
        uint16 orderBandBps;
        uint16 liquidationPenaltyBps;
        int16 makerFeeBps;
        uint16 takerFeeBps;
        uint64 positionLimitQty;
        uint64 openInterestCapQty;
    }

    /// @notice An account's position in one series.
    /// @param sizeQty Signed size in contracts: long > 0, short < 0.
    /// @param openNotionalX18 Signed cost basis of the open size (sizeQty x average entry x multiplier).
    struct Position {
        int64 sizeQty;
        int192 openNotionalX18;
    }

    /// @notice Per-series market state.
    /// @param openInterestQty Sum of long sizes (= sum of short sizes), in contracts.
    /// @param basisEmaX18 Time-weighted EMA of the traded basis as of `lastBasisSampleAt`.
    /// @param lastBasisSampleX18 The latest basis sample (trade price - index, clamped to the band).
    /// @param lastBasisSampleAt When the latest sample was taken (0 before the first trade).
    struct MarketState {
        uint64 openInterestQty;
        uint32 lastBasisSampleAt;
        int128 basisEmaX18;
        int128 lastBasisSampleX18;
    }

    /// @notice Where a series is in its settlement.
    /// None: not proposed. Proposed: a price is in its dispute window. Challenged: the guardian
    /// disputed it; governance must set the price. Final: positions close at `priceX18`.
    enum SettlementStatus {
        None,
        Proposed,
        Challenged,
        Final
    }

    /// @notice Settlement record of a series.
    /// @param status As stored; `settlementOf` reports Proposed past its dispute window as Final.
    /// @param governed True when governance set the price (challenged or data-less settlement).
    /// @param finalAt When the proposed price becomes final (end of its dispute window), or when governance set it.
    /// @param priceX18 The settlement price.
    struct Settlement {
        SettlementStatus status;
        bool governed;
        uint64 finalAt;
        uint256 priceX18;
    }

    /// @notice An account's margin at the current marks.
    /// @param cashX18 Realized cash (deposits - withdrawals + realized PnL - fees); may be negative.
    /// @param unrealizedPnlX18 Sum over positions of sizeQty x mark x multiplier - openNotional.
    /// @param equityX18 cash + unrealized PnL.
    /// @param initialMarginX18 Sum of initial margin requirements (rounded up per series), resting orders included.
    /// @param maintenanceMarginX18 Sum of maintenance margin requirements (rounded up per series).
    /// @param withdrawableX18 max(0, min(cash, equity - initial margin)).
    /// @param orderMarginX18 The part of `initialMarginX18` reserved for resting orders (worst case if they fill).
    struct AccountHealth {
        int256 cashX18;
        int256 unrealizedPnlX18;
        int256 equityX18;
        uint256 initialMarginX18;
        uint256 maintenanceMarginX18;
        uint256 withdrawableX18;
        uint256 orderMarginX18;
    }

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice Thrown when the collateral token reports more than 18 decimals.
    error CollateralDecimalsUnsupported(uint8 decimals);
    /// @notice Thrown when a constructor or setter address is zero.
    error ZeroAddress();
    /// @notice Thrown when an amount is zero.
    error ZeroAmount();
    /// @notice Thrown when a raw amount is above the largest the vault accepts in one call.
    error AmountTooLarge(uint256 amountRaw, uint256 maxAmountRaw);
    /// @notice Thrown when the token moved a different amount than asked (fee-on-transfer, rebasing
    /// or silently failing tokens).
    error CollateralTransferMismatch(uint256 expectedRaw, uint256 actualRaw);
    /// @notice Thrown when the caller is neither the account nor an operator it approved.
    error NotAccountOwnerOrOperator(address account, address caller);
    /// @notice Thrown when a withdrawal asks for more than the account's free, realized cash.
    error InsufficientFreeCollateral(address account, uint256 requestedX18, uint256 availableX18);
    /// @notice Thrown when the insurance fund or fee pool holds less than asked.
    error PoolBalanceTooLow(bytes32 pool, uint256 requestedX18, uint256 availableX18);
    /// @notice Thrown when a series id does not exist.
    error UnknownSeries(uint32 seriesId);
    /// @notice Thrown when listing a symbol that is already listed, or a zero symbol.
    error SeriesSymbolInvalid(bytes32 symbol);
    /// @notice Thrown when the series' feed does not exist on the oracle.
    error SeriesFeedUnknown(bytes32 feedId);
    /// @notice Thrown when a series or global parameter is outside its hard bounds.
    error ParamOutOfBounds(bytes32 param, int256 value, int256 min, int256 max);
    /// @notice Thrown when trading a series at or after its expiry.
    error SeriesExpired(uint32 seriesId, uint256 expiry);
    /// @notice Thrown when an order's quantity is below the series' minimum.
    error QtyBelowMinimum(uint32 seriesId, uint256 qty, uint256 minQty);
    /// @notice Thrown when a fill's price is farther from the mark than the series' band.
    error PriceOutsideBand(uint32 seriesId, uint256 priceX18, uint256 minPriceX18, uint256 maxPriceX18);
    /// @notice Thrown when a risk-increasing action needs the index and it is older than its max age.
    error IndexStale(uint32 seriesId, uint256 observedAt);
    /// @notice Thrown when a fill would take an account's absolute position above the limit.
    error PositionLimitExceeded(address account, uint32 seriesId, uint256 sizeQty, uint256 limitQty);
    /// @notice Thrown when a fill would take open interest above the cap.
    error OpenInterestCapExceeded(uint32 seriesId, uint256 openInterestQty, uint256 capQty);
    /// @notice Thrown when a new position would exceed the number of series an account may hold.
    error TooManySeries(address account, uint256 maxSeries);
    /// @notice Thrown when an account that raised its risk ends below initial margin, or an account
    /// that reduced its risk ends below initial margin and with a lower maintenance surplus.
    error InsufficientMargin(address account, int256 equityX18, uint256 requiredX18);
    /// @notice Thrown when finalizing before expiry.
    error SeriesNotExpired(uint32 seriesId, uint256 expiry);
    /// @notice Thrown when finalizing while a pre-expiry oracle round may still arrive.
    error SettlementDataIncomplete(uint32 seriesId, uint256 lastObservedAt, uint256 readyAt);
    /// @notice Thrown when the oracle cannot give a TWAP over the window (no, stale or held data).
    error SettlementDataUnavailable(uint32 seriesId, bytes oracleError);
    /// @notice Thrown when the window's data has another methodology version than the series.
    error SettlementMethodologyMismatch(uint32 seriesId, uint16 dataVersion, uint16 seriesVersion);
    /// @notice Thrown when the window holds fewer oracle rounds than the series requires.
    error SettlementTooFewRounds(uint32 seriesId, uint256 rounds, uint256 minRounds);
    /// @notice Thrown when a settlement action does not fit the series' settlement status.
    error SettlementStatusInvalid(uint32 seriesId, SettlementStatus status);
    /// @notice Thrown when the guardian challenges after the dispute window closed.
    error DisputeWindowClosed(uint32 seriesId, uint256 closedAt);
    /// @notice Thrown when governance sets a price before the grace period after expiry ends.
    error GovernanceGracePending(uint32 seriesId, uint256 availableAt);
    /// @notice Thrown when governance sets a price while an automatic settlement is possible.
    error SettlementDataAvailable(uint32 seriesId, uint256 twapX18);
    /// @notice Thrown when a governance settlement price is outside its bounds.
    error SettlementPriceOutOfBounds(uint32 seriesId, uint256 priceX18, uint256 minPriceX18, uint256 maxPriceX18);
    /// @notice Thrown when settling an account that has no position in the series.
    error NothingToSettle(address account, uint32 seriesId);

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice Emitted when collateral is deposited into `account`.
    /// @param amountRaw Token units received.
    /// @param amountX18 The same amount credited, 18 decimals.
    event Deposited(address indexed account, address indexed from, uint256 amountRaw, uint256 amountX18);
    /// @notice Emitted when collateral leaves `account` for `to`. @param amountRaw Token units sent.
    event Withdrawn(address indexed account, address indexed to, uint256 amountRaw);
    /// @notice Emitted when `owner` approves or revokes `operator`.
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    /// @notice Emitted when a series is listed.
    event SeriesListed(uint32 indexed seriesId, bytes32 indexed symbol, SeriesSpec spec, RiskParams risk);
    /// @notice Emitted when a series' risk parameters change.
    event RiskParamsSet(uint32 indexed seriesId, RiskParams risk);
    /// @notice Emitted when the settlement dispute window or governance grace period changes (seconds).
    event SettlementDelaysSet(uint256 disputeWindowSec, uint256 governanceGraceSec);
    /// @notice Emitted when the share of fees that goes to the insurance fund changes (bps).
    event InsuranceFeeShareSet(uint256 insuranceFeeShareBps);
    /// @notice Emitted when a trade samples the basis.
    /// @param sampleX18 The clamped sample.
    /// @param emaX18 The EMA just before the sample.
    event BasisSampled(uint32 indexed seriesId, int256 sampleX18, int256 emaX18);
    /// @notice Emitted when someone proposes the settlement price from the oracle TWAP.
    event SettlementProposed(uint32 indexed seriesId, uint256 priceX18, uint256 roundsInWindow, uint256 finalAt);
    /// @notice Emitted when the guardian challenges a proposed settlement price.
    event SettlementChallenged(uint32 indexed seriesId, address indexed guardian, uint256 priceX18);
    /// @notice Emitted when governance sets a settlement price (challenged or data-less series).
    event SettlementGoverned(uint32 indexed seriesId, uint256 priceX18, uint256 referencePriceX18);
    /// @notice Emitted when an account's position in a series closes at the settlement price.
    event AccountSettled(address indexed account, uint32 indexed seriesId, int256 sizeQty, int256 pnlX18);
    /// @notice Emitted when someone adds to the insurance fund.
    event InsuranceContributed(address indexed from, uint256 amountRaw);
    /// @notice Emitted when governance takes collateral out of the insurance fund.
    event InsuranceWithdrawn(address indexed to, uint256 amountRaw);
    /// @notice Emitted when governance takes collateral out of the fee pool.
    event FeesWithdrawn(address indexed to, uint256 amountRaw);

    // ---------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------

    /// @notice Lists a new series. MARKET_ADMIN_ROLE only (held by the timelock).
    /// @dev Every field is checked against hard bounds; see `docs/clearinghouse.md`.
    /// @return seriesId The new series id (sequential from 1).
    function listSeries(SeriesSpec calldata spec, RiskParams calldata risk) external returns (uint32 seriesId);

    /// @notice Changes a series' risk parameters within the hard bounds. MARKET_ADMIN_ROLE only.
    /// @dev Warning: raising margins applies to open positions at once and can make accounts liquidatable;
    /// the timelock delay is the notice.
    function setRiskParams(uint32 seriesId, RiskParams calldata risk) external;

    /// @notice Sets the settlement dispute window (10 min to 3 days) and the governance grace period
    /// after expiry (1 to 30 days). DEFAULT_ADMIN_ROLE only.
    function setSettlementDelays(uint256 disputeWindowSec, uint256 governanceGraceSec) external;

    /// @notice Sets the share of fees paid to the insurance fund, in bps (0 to 10,000). DEFAULT_ADMIN_ROLE only.
    function setInsuranceFeeShare(uint256 insuranceFeeShareBps) external;

    /// @notice Pays collateral out of the insurance fund. DEFAULT_ADMIN_ROLE only (the timelock).
    /// @param amountRaw Token units.
    function withdrawInsurance(address to, uint256 amountRaw) external;

    /// @notice Pays collateral out of the fee pool. DEFAULT_ADMIN_ROLE only (the timelock).
    /// @param amountRaw Token units.
    function withdrawFees(address to, uint256 amountRaw) external;

    /// @notice Stops new risk: fills that raise either side's position. GUARDIAN_ROLE only.
    /// @dev Never blocked by a pause: deposits, withdrawals of free collateral, fills that reduce both
    /// sides, settlement (finalize, settle accounts), insurance contributions.
    function pause() external;

    /// @notice Lifts the pause. GUARDIAN_ROLE only.
    function unpause() external;

    // ---------------------------------------------------------------------------------------
    // Accounts and collateral
    // ---------------------------------------------------------------------------------------

    /// @notice Deposits `amountRaw` token units into the caller's account.
    /// @dev Needs an allowance. Refuses tokens that deliver a different amount than asked.
    function deposit(uint256 amountRaw) external;

    /// @notice Deposits `amountRaw` token units from the caller into `account`.
    function depositFor(address account, uint256 amountRaw) external;

    /// @notice Withdraws `amountRaw` token units from `account` to `to`. The account or its operator only.
    /// @dev Only realized cash not needed for initial margin: amount <= min(cash, equity - IM).
    /// Works while paused and with a stale index (the last index values the positions).
    function withdraw(address account, uint256 amountRaw, address to) external;

    /// @notice Approves or revokes `operator` to trade and withdraw for the caller's account.
    function setOperator(address operator, bool approved) external;

    /// @notice Adds `amountRaw` token units from the caller to the insurance fund.
    function contributeInsurance(uint256 amountRaw) external;

    // ---------------------------------------------------------------------------------------
    // Settlement
    // ---------------------------------------------------------------------------------------

    /// @notice Proposes the settlement price: the oracle TWAP over the averaging window. Anyone.
    /// @dev Needs: expiry passed; an oracle round at or after expiry, or the feed's max age passed since
    /// expiry (so no earlier round can still arrive); the window's data of the series' methodology
    /// version with at least `minSettlementRounds` rounds. Final after the dispute window unless challenged.
    function finalizeSettlement(uint32 seriesId) external;

    /// @notice Disputes a proposed settlement price within its dispute window. GUARDIAN_ROLE only.
    function challengeSettlement(uint32 seriesId) external;

    /// @notice Sets the settlement price of a challenged or data-less series. DEFAULT_ADMIN_ROLE only (the
    /// timelock), after the grace period after expiry, within GOVERNANCE_PRICE_BAND_BPS of the last index.
    function setSettlementPriceByGovernance(uint32 seriesId, uint256 priceX18) external;

    /// @notice Closes `account`'s position in a final series at the settlement price into its cash. Anyone.
    function settleAccount(uint32 seriesId, address account) external;

    /// @notice Settles many accounts of a final series; skips accounts with no position. Anyone.
    /// @return settledCount Accounts settled by this call.
    function settleAccounts(uint32 seriesId, address[] calldata accounts) external returns (uint256 settledCount);

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice Cash of `account` in USD, 18 decimals (may be negative).
    function cashOf(address account) external view returns (int256 cashX18);

    /// @notice Position of `account` in `seriesId`.
    function positionOf(address account, uint32 seriesId) external view returns (Position memory position);

    /// @notice Series in which `account` holds a position (at most MAX_SERIES_PER_ACCOUNT).
    function seriesOf(address account) external view returns (uint32[] memory seriesIds);

    /// @notice Margin of `account` at the current marks.
    function accountHealth(address account) external view returns (AccountHealth memory health);

    /// @notice True when `operator` may act for `owner`.
    function isOperator(address owner, address operator) external view returns (bool);

    /// @notice The mark price of a series (USD per index unit, 18 decimals), rounded down.
    /// @dev index + clamped time-weighted basis EMA; inside the averaging window the observed part is
    /// fixed: (observed average x observed time + (index + basis) x remaining time) / window.
    function markPrice(uint32 seriesId) external view returns (uint256 markX18);

    /// @notice The spec of a series.
    function seriesSpec(uint32 seriesId) external view returns (SeriesSpec memory spec);

    /// @notice The risk parameters of a series.
    function riskParams(uint32 seriesId) external view returns (RiskParams memory risk);

    /// @notice The market state of a series.
    function marketState(uint32 seriesId) external view returns (MarketState memory state);

    /// @notice The settlement of a series; a proposed price past its dispute window reads as Final.
    function settlementOf(uint32 seriesId) external view returns (Settlement memory settlement);

    /// @notice Number of listed series (ids run from 1 to this).
    function seriesCount() external view returns (uint32);

    /// @notice Series id of a symbol, 0 when not listed.
    function seriesIdOf(bytes32 symbol) external view returns (uint32);

    /// @notice Insurance fund balance, USD 18 decimals.
    function insuranceFundX18() external view returns (uint256);

    /// @notice Fee pool balance, USD 18 decimals.
    function feePoolX18() external view returns (uint256);

    /// @notice Seconds a proposed settlement price can be challenged.
    function disputeWindowSec() external view returns (uint256);

    /// @notice Seconds after expiry before governance may set a settlement price.
    function governanceGraceSec() external view returns (uint256);

    /// @notice Share of fees paid to the insurance fund, bps.
    function insuranceFeeShareBps() external view returns (uint256);
}
