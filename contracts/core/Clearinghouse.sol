// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IClearinghouse} from "../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../interfaces/IIndexOracle.sol";
import {ILiquidation} from "../interfaces/ILiquidation.sol";
import {IOrderBook} from "../interfaces/IOrderBook.sol";
import {SeriesBounds} from "../libraries/SeriesBounds.sol";
import {SeriesSet} from "../libraries/SeriesSet.sol";
import {ClearinghouseStorage} from "./ClearinghouseStorage.sol";
import {MarginLogic} from "./logic/MarginLogic.sol";
import {SettlementLogic} from "./logic/SettlementLogic.sol";
import {LiquidationLogic} from "./logic/LiquidationLogic.sol";
import {DeficitLogic} from "./logic/DeficitLogic.sol";
import {OrderBookLogic} from "./logic/OrderBookLogic.sol";
import {OrderCancelLogic} from "./logic/OrderCancelLogic.sol";
import {OrderQueue} from "./logic/OrderQueue.sol";
import {TickBitmap} from "../libraries/TickBitmap.sol";

/// @title Clearinghouse
/// @notice Holds all collateral of the exchange and books every movement of value: deposits and
/// withdrawals, the order book of every series and its trades (see `IOrderBook`), fees, the insurance fund and expiry
/// settlement of every series. See `IClearinghouse` for units, rounding and assumptions.
/// @dev Roles: DEFAULT_ADMIN_ROLE (the timelock) grants roles, sets global parameters, pays out of
/// the insurance fund and fee pool and sets governance settlement prices; MARKET_ADMIN_ROLE (the
/// timelock) lists series and sets risk parameters within hard bounds; GUARDIAN_ROLE pauses new
/// risk and challenges settlement prices. No role can trade for an account or move its
/// positions: that takes the account or its operator, through the order book. Not upgradeable:
/// no proxy, no initializer, and the only delegatecalls go to the logic libraries linked into the
/// bytecode at deployment.
contract Clearinghouse is IClearinghouse, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------------------------------
    // Constants and immutables
    // ---------------------------------------------------------------------------------------

    /// @notice Role that lists series and sets their risk parameters.
    bytes32 public constant MARKET_ADMIN_ROLE = keccak256("MARKET_ADMIN_ROLE");
    /// @notice Role that pauses new risk and challenges settlement prices.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Most series one account may hold positions in (bounds every loop over an account).
    uint256 public constant MAX_SERIES_PER_ACCOUNT = SeriesSet.CAPACITY;
    /// @notice Period of the mark's basis EMA.
    uint256 public constant BASIS_EMA_PERIOD_SEC = MarginLogic.BASIS_EMA_PERIOD_SEC;
    /// @notice Governance settlement prices stay within this many bps of the last index.
    uint256 public constant GOVERNANCE_PRICE_BAND_BPS = SettlementLogic.GOVERNANCE_PRICE_BAND_BPS;
    /// @notice Largest raw amount of one deposit or withdrawal.
    uint256 public constant MAX_AMOUNT_RAW = type(uint128).max;
    /// @notice Largest settlement price (the oracle's largest price).
    uint256 public constant MAX_PRICE_X18 = SettlementLogic.MAX_PRICE_X18;

    uint256 internal constant BPS = 10_000;
    bytes32 internal constant INSURANCE_POOL = "insurance";
    bytes32 internal constant FEE_POOL = "fees";

    /// @notice The collateral token.
    IERC20 public immutable collateral;
    /// @notice The collateral token's decimals.
    uint8 public immutable collateralDecimals;
    /// @notice The index oracle.
    IIndexOracle public immutable oracle;
    /// @dev 10^(18 - collateralDecimals): raw token units to 18-decimal units.
    uint256 internal immutable _rawToX18;

    // ---------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------

    /// @dev All state, in one struct shared with the `...Logic` libraries.
    ClearinghouseStorage.Layout internal _s;

    // ---------------------------------------------------------------------------------------
    // Constructor
    // ---------------------------------------------------------------------------------------

    /// @param collateral_ The collateral token (at most 18 decimals; must move exact amounts).
    /// @param oracle_ The index oracle.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (the timelock, or the deployer until set-up ends).
    constructor(IERC20Metadata collateral_, IIndexOracle oracle_, address admin) {
        if (address(collateral_) == address(0) || address(oracle_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        uint8 decimals = collateral_.decimals();
        if (decimals > 18) revert CollateralDecimalsUnsupported(decimals);
        collateral = collateral_;
        collateralDecimals = decimals;
        oracle = oracle_;
        _rawToX18 = 10 ** (18 - decimals);
        _s.disputeWindowSec = 2 hours;
        _s.governanceGraceSec = 3 days;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------------------------------
    // Modifiers
    // ---------------------------------------------------------------------------------------

    modifier onlyOwnerOrOperator(address account) {
        if (msg.sender != account && !_s.operators[account][msg.sender]) {
            revert NotAccountOwnerOrOperator(account, msg.sender);
        }
        _;
    }

    // ---------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IClearinghouse
    function listSeries(
        SeriesSpec calldata spec,
        RiskParams calldata risk
    ) external onlyRole(MARKET_ADMIN_ROLE) returns (uint32 seriesId) {
        if (spec.symbol == bytes32(0) || _s.seriesIdBySymbol[spec.symbol] != 0) revert SeriesSymbolInvalid(spec.symbol);
        if (!oracle.feedConfig(spec.feedId).exists) revert SeriesFeedUnknown(spec.feedId);
        // Time rule: a listed series expires in the future, within bounds.
        // solhint-disable-next-line not-rely-on-time
        SeriesBounds.checkSpec(spec, block.timestamp);
        SeriesBounds.checkRisk(risk, spec.minQty);
        seriesId = ++_s.seriesCount;
        _s.series[seriesId] = ClearinghouseStorage.SeriesRecord({spec: spec, risk: risk});
        _s.seriesIdBySymbol[spec.symbol] = seriesId;
        emit SeriesListed(seriesId, spec.symbol, spec, risk);
    }

    /// @inheritdoc IClearinghouse
    function setRiskParams(uint32 seriesId, RiskParams calldata risk) external onlyRole(MARKET_ADMIN_ROLE) {
        ClearinghouseStorage.SeriesRecord storage record = ClearinghouseStorage.requireSeries(_s, seriesId);
        SeriesBounds.checkRisk(risk, record.spec.minQty);
        record.risk = risk;
        emit RiskParamsSet(seriesId, risk);
    }

    /// @inheritdoc IClearinghouse
    function setSettlementDelays(
        uint256 disputeWindowSec_,
        uint256 governanceGraceSec_
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        SeriesBounds.checkRange("disputeWindowSec", disputeWindowSec_, 10 minutes, 3 days);
        SeriesBounds.checkRange("governanceGraceSec", governanceGraceSec_, 1 days, 30 days);
        _s.disputeWindowSec = uint32(disputeWindowSec_);
        _s.governanceGraceSec = uint32(governanceGraceSec_);
        emit SettlementDelaysSet(disputeWindowSec_, governanceGraceSec_);
    }

    /// @inheritdoc IClearinghouse
    function setInsuranceFeeShare(uint256 insuranceFeeShareBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        SeriesBounds.checkRange("insuranceFeeShareBps", insuranceFeeShareBps_, 0, BPS);
        _s.insuranceFeeShareBps = uint16(insuranceFeeShareBps_);
        emit InsuranceFeeShareSet(insuranceFeeShareBps_);
    }

    /// @inheritdoc IClearinghouse
    function withdrawInsurance(address to, uint256 amountRaw) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        _s.insuranceFundX18 = _debitPool(INSURANCE_POOL, _s.insuranceFundX18, to, amountRaw);
        emit InsuranceWithdrawn(to, amountRaw);
        _pushCollateral(to, amountRaw);
    }

    /// @inheritdoc IClearinghouse
    function withdrawFees(address to, uint256 amountRaw) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        _s.feePoolX18 = _debitPool(FEE_POOL, _s.feePoolX18, to, amountRaw);
        emit FeesWithdrawn(to, amountRaw);
        _pushCollateral(to, amountRaw);
    }

    /// @inheritdoc IClearinghouse
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IClearinghouse
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------------------------------
    // Accounts and collateral
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IClearinghouse
    function deposit(uint256 amountRaw) external nonReentrant {
        _deposit(msg.sender, amountRaw);
    }

    /// @inheritdoc IClearinghouse
    function depositFor(address account, uint256 amountRaw) external nonReentrant {
        if (account == address(0)) revert ZeroAddress();
        _deposit(account, amountRaw);
    }

    /// @inheritdoc IClearinghouse
    function withdraw(
        address account,
        uint256 amountRaw,
        address to
    ) external nonReentrant onlyOwnerOrOperator(account) {
        if (to == address(0)) revert ZeroAddress();
        uint256 amountX18 = _toX18(amountRaw);
        ClearinghouseStorage.settleFinalSeries(_s, account);
        uint256 availableX18 = MarginLogic.health(_s, oracle, account, 0, 0).withdrawableX18;
        if (amountX18 > availableX18) revert InsufficientFreeCollateral(account, amountX18, availableX18);
        _s.accounts[account].cashX18 -= int256(amountX18);
        emit Withdrawn(account, to, amountRaw);
        _pushCollateral(to, amountRaw);
    }

    /// @inheritdoc IClearinghouse
    function setOperator(address operator, bool approved) external {
        if (operator == address(0)) revert ZeroAddress();
        _s.operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc IClearinghouse
    function contributeInsurance(uint256 amountRaw) external nonReentrant {
        _s.insuranceFundX18 += _pullCollateral(amountRaw);
        emit InsuranceContributed(msg.sender, amountRaw);
    }

    // ---------------------------------------------------------------------------------------
    // Trading
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IOrderBook
    function placeOrder(OrderParams calldata params) external nonReentrant returns (PlaceResult memory) {
        return OrderBookLogic.placeOrder(_s, oracle, params, paused());
    }

    /// @inheritdoc IOrderBook
    function cancelOrder(uint256 orderId) external nonReentrant {
        OrderCancelLogic.cancelOrder(_s, orderId);
    }

    /// @inheritdoc IOrderBook
    function cancelAllOrders(address account, uint32 seriesId) external nonReentrant returns (uint256) {
        return OrderCancelLogic.cancelAllOrders(_s, oracle, account, seriesId);
    }

    /// @inheritdoc IOrderBook
    function replaceOrder(
        uint256 orderId,
        OrderParams calldata params
    ) external nonReentrant returns (PlaceResult memory) {
        return OrderBookLogic.replaceOrder(_s, oracle, orderId, params, paused());
    }

    // ---------------------------------------------------------------------------------------
    // Liquidation and deficits (never paused)
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc ILiquidation
    function liquidate(address account, uint32 seriesId, uint256 maxQty) external nonReentrant returns (uint256) {
        return LiquidationLogic.liquidate(_s, oracle, account, seriesId, maxQty);
    }

    /// @inheritdoc ILiquidation
    function liquidateBatch(LiquidationRequest[] calldata requests) external nonReentrant returns (uint256) {
        return LiquidationLogic.liquidateBatch(_s, oracle, requests);
    }

    /// @inheritdoc ILiquidation
    function deleverage(address account, DeleverageLeg[] calldata legs) external nonReentrant {
        DeficitLogic.deleverage(_s, oracle, account, legs);
    }

    /// @inheritdoc ILiquidation
    function coverDeficit(address account) external nonReentrant {
        DeficitLogic.coverDeficit(_s, account);
    }

    // ---------------------------------------------------------------------------------------
    // Settlement
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IClearinghouse
    function finalizeSettlement(uint32 seriesId) external nonReentrant {
        SettlementLogic.finalize(_s, oracle, seriesId);
    }

    /// @inheritdoc IClearinghouse
    function challengeSettlement(uint32 seriesId) external nonReentrant onlyRole(GUARDIAN_ROLE) {
        SettlementLogic.challenge(_s, seriesId);
    }

    /// @inheritdoc IClearinghouse
    function setSettlementPriceByGovernance(
        uint32 seriesId,
        uint256 priceX18
    ) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        SettlementLogic.govern(_s, oracle, seriesId, priceX18);
    }

    /// @inheritdoc IClearinghouse
    function settleAccount(uint32 seriesId, address account) external nonReentrant {
        // Inline rather than through SettlementLogic: one account is the keeper's hot path.
        ClearinghouseStorage.SeriesRecord storage record = ClearinghouseStorage.requireSeries(_s, seriesId);
        Settlement storage settlement = _s.settlements[seriesId];
        SettlementStatus status = ClearinghouseStorage.effectiveStatus(settlement);
        if (status != SettlementStatus.Final) revert SettlementStatusInvalid(seriesId, status);
        bool settled = ClearinghouseStorage.settlePosition(
            _s,
            account,
            seriesId,
            settlement.priceX18,
            record.spec.contractMultiplier
        );
        if (!settled) revert NothingToSettle(account, seriesId);
    }

    /// @inheritdoc IClearinghouse
    function settleAccounts(
        uint32 seriesId,
        address[] calldata accounts
    ) external nonReentrant returns (uint256 settledCount) {
        return SettlementLogic.settleAccounts(_s, seriesId, accounts);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IClearinghouse
    function cashOf(address account) external view returns (int256) {
        return _s.accounts[account].cashX18;
    }

    /// @inheritdoc IClearinghouse
    function positionOf(address account, uint32 seriesId) external view returns (Position memory) {
        return _s.positions[account][seriesId];
    }

    /// @inheritdoc IClearinghouse
    function seriesOf(address account) external view returns (uint32[] memory) {
        return SeriesSet.toArray(_s.accounts[account].seriesSet);
    }

    /// @inheritdoc IClearinghouse
    function accountHealth(address account) external view returns (AccountHealth memory) {
        return MarginLogic.health(_s, oracle, account, 0, 0);
    }

    /// @inheritdoc IClearinghouse
    function isOperator(address owner, address operator) external view returns (bool) {
        return _s.operators[owner][operator];
    }

    /// @inheritdoc IClearinghouse
    function markPrice(uint32 seriesId) external view returns (uint256) {
        ClearinghouseStorage.requireSeries(_s, seriesId);
        return MarginLogic.valuationMark(_s, oracle, seriesId);
    }

    /// @inheritdoc IClearinghouse
    function seriesSpec(uint32 seriesId) external view returns (SeriesSpec memory) {
        return ClearinghouseStorage.requireSeries(_s, seriesId).spec;
    }

    /// @inheritdoc IClearinghouse
    function riskParams(uint32 seriesId) external view returns (RiskParams memory) {
        return ClearinghouseStorage.requireSeries(_s, seriesId).risk;
    }

    /// @inheritdoc IClearinghouse
    function marketState(uint32 seriesId) external view returns (MarketState memory) {
        ClearinghouseStorage.requireSeries(_s, seriesId);
        return _s.markets[seriesId];
    }

    /// @inheritdoc IClearinghouse
    function settlementOf(uint32 seriesId) external view returns (Settlement memory settlement) {
        ClearinghouseStorage.requireSeries(_s, seriesId);
        settlement = _s.settlements[seriesId];
        settlement.status = ClearinghouseStorage.statusAt(settlement.status, settlement.finalAt);
    }

    /// @inheritdoc IClearinghouse
    function seriesIdOf(bytes32 symbol) external view returns (uint32) {
        return _s.seriesIdBySymbol[symbol];
    }

    /// @inheritdoc IClearinghouse
    function seriesCount() external view returns (uint32) {
        return _s.seriesCount;
    }

    /// @inheritdoc IClearinghouse
    function insuranceFundX18() external view returns (uint256) {
        return _s.insuranceFundX18;
    }

    /// @inheritdoc IClearinghouse
    function feePoolX18() external view returns (uint256) {
        return _s.feePoolX18;
    }

    /// @inheritdoc IClearinghouse
    function disputeWindowSec() external view returns (uint256) {
        return _s.disputeWindowSec;
    }

    /// @inheritdoc IClearinghouse
    function governanceGraceSec() external view returns (uint256) {
        return _s.governanceGraceSec;
    }

    /// @inheritdoc IClearinghouse
    function insuranceFeeShareBps() external view returns (uint256) {
        return _s.insuranceFeeShareBps;
    }

    /// @inheritdoc IOrderBook
    function orderOf(uint256 orderId) external view returns (OrderView memory) {
        (uint32 seriesId, uint256 ref, ClearinghouseStorage.Order memory order) = OrderQueue.requireOrder(_s, orderId);
        return
            OrderView({
                orderId: orderId,
                account: _s.accountsById[uint32(ref >> 8)],
                seriesId: seriesId,
                isBuy: order.flags & ClearinghouseStorage.FLAG_BUY != 0,
                reduceOnly: order.flags & ClearinghouseStorage.FLAG_REDUCE_ONLY != 0,
                tick: order.tick,
                qty: order.qty,
                expiresAt: order.expiresAt
            });
    }

    /// @inheritdoc IOrderBook
    function levelOf(uint32 seriesId, bool isBuy, uint32 tick) external view returns (LevelView memory) {
        ClearinghouseStorage.Book storage book = _s.books[seriesId];
        ClearinghouseStorage.Level memory level = (isBuy ? book.bids : book.asks).levels[tick];
        uint256 headOrderId =
            level.head == 0 ? 0 : OrderQueue.orderIdOf(seriesId, level.head, book.orders[level.head].sequence);
        return LevelView({tick: tick, qty: level.qty, orderCount: level.orderCount, headOrderId: headOrderId});
    }

    /// @inheritdoc IOrderBook
    function nextActiveTick(uint32 seriesId, bool isBuy, uint32 fromTick) external view returns (uint32, bool) {
        ClearinghouseStorage.Book storage book = _s.books[seriesId];
        (uint256 tick, bool found) = isBuy
            ? TickBitmap.highestAtOrBelow(book.bids.ticks, fromTick)
            : TickBitmap.lowestAtOrAbove(book.asks.ticks, fromTick);
        return (uint32(tick), found);
    }

    /// @inheritdoc IOrderBook
    function nextOrderIdOf(uint256 orderId) external view returns (uint256) {
        (uint32 seriesId, , ClearinghouseStorage.Order memory order) = OrderQueue.requireOrder(_s, orderId);
        if (order.next == 0) return 0;
        return OrderQueue.orderIdOf(seriesId, order.next, _s.books[seriesId].orders[order.next].sequence);
    }

    /// @inheritdoc IOrderBook
    function openOrderIdsOf(address account, uint32 seriesId) external view returns (uint256[] memory orderIds) {
        uint256 slots = _s.exposures[account][seriesId].slotBitmap;
        uint256 accountRef = uint256(_s.accountIds[account]) << 8;
        ClearinghouseStorage.Book storage book = _s.books[seriesId];
        uint256 count = 0;
        for (uint256 bits = slots; bits != 0; bits &= bits - 1) ++count;
        orderIds = new uint256[](count);
        uint256 next = 0;
        for (uint256 slot = 0; next < count; ++slot) {
            if (slots & (1 << slot) == 0) continue;
            uint256 ref = accountRef | slot;
            orderIds[next++] = OrderQueue.orderIdOf(seriesId, ref, book.orders[ref].sequence);
        }
    }

    /// @inheritdoc IOrderBook
    function exposureOf(address account, uint32 seriesId) external view returns (ExposureView memory) {
        ClearinghouseStorage.Exposure memory exposure = _s.exposures[account][seriesId];
        uint256 openOrders = 0;
        for (uint256 slots = exposure.slotBitmap; slots != 0; slots &= slots - 1) ++openOrders;
        return
            ExposureView({
                buyQty: exposure.buyQty,
                sellQty: exposure.sellQty,
                buyTickQty: exposure.buyTickQty,
                sellTickQty: exposure.sellTickQty,
                openOrders: uint32(openOrders),
                sequence: exposure.sequence
            });
    }

    // ---------------------------------------------------------------------------------------
    // Internal: collateral
    // ---------------------------------------------------------------------------------------

    function _deposit(address account, uint256 amountRaw) internal {
        ClearinghouseStorage.settleFinalSeries(_s, account);
        uint256 amountX18 = _pullCollateral(amountRaw);
        _s.accounts[account].cashX18 += int256(amountX18);
        emit Deposited(account, msg.sender, amountRaw, amountX18);
    }

    /// @dev The one conversion from token units to 18 decimals; exact (multiplies by 10^(18 - decimals)).
    function _toX18(uint256 amountRaw) internal view returns (uint256) {
        if (amountRaw == 0) revert ZeroAmount();
        if (amountRaw > MAX_AMOUNT_RAW) revert AmountTooLarge(amountRaw, MAX_AMOUNT_RAW);
        return amountRaw * _rawToX18;
    }

    /// @dev Pulls `amountRaw` from the caller and checks that exactly that much arrived.
    function _pullCollateral(uint256 amountRaw) internal returns (uint256 amountX18) {
        amountX18 = _toX18(amountRaw);
        uint256 balanceBefore = collateral.balanceOf(address(this));
        collateral.safeTransferFrom(msg.sender, address(this), amountRaw);
        uint256 balanceAfter = collateral.balanceOf(address(this));
        uint256 received = balanceAfter > balanceBefore ? balanceAfter - balanceBefore : 0;
        if (received != amountRaw) revert CollateralTransferMismatch(amountRaw, received);
    }

    /// @dev Sends `amountRaw` to `to` and checks that exactly that much left.
    function _pushCollateral(address to, uint256 amountRaw) internal {
        uint256 balanceBefore = collateral.balanceOf(address(this));
        collateral.safeTransfer(to, amountRaw);
        uint256 balanceAfter = collateral.balanceOf(address(this));
        uint256 sent = balanceBefore > balanceAfter ? balanceBefore - balanceAfter : 0;
        if (sent != amountRaw) revert CollateralTransferMismatch(amountRaw, sent);
    }

    function _debitPool(
        bytes32 pool,
        uint256 poolX18,
        address to,
        uint256 amountRaw
    ) internal view returns (uint256 remainingX18) {
        if (to == address(0)) revert ZeroAddress();
        uint256 amountX18 = _toX18(amountRaw);
        if (amountX18 > poolX18) revert PoolBalanceTooLow(pool, amountX18, poolX18);
        return poolX18 - amountX18;
    }
}
