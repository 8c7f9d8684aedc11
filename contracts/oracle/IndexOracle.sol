// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IIndexOracle} from "../interfaces/IIndexOracle.sol";
import {BpsMath} from "../libraries/BpsMath.sol";
import {Median} from "../libraries/Median.sol";
import {ObservationHistory} from "../libraries/ObservationHistory.sol";

/// @title IndexOracle
/// @notice Index prices for every underlying of the exchange, one feed per underlying, each with
/// its own reporter set, quorum, max age, jump guard and methodology version. Anyone may transmit
/// a round of reports signed by the feed's reporters; the median of at least `quorum` distinct
/// reporters is accepted into a price-time history from which TWAPs are exact.
/// @dev Roles: DEFAULT_ADMIN_ROLE grants and revokes roles; ORACLE_ADMIN_ROLE creates feeds and
/// sets reporters, quorum, guards and methodology versions within hard bounds. Both are meant to
/// be held by a TimelockController. Nothing here holds value and nothing is upgradeable.
contract IndexOracle is IIndexOracle, AccessControl, EIP712 {
    using ObservationHistory for ObservationHistory.Ring;
    using SafeCast for uint256;

    // ---------------------------------------------------------------------------------------
    // Constants
    // ---------------------------------------------------------------------------------------

    /// @notice Role that manages feeds, reporters, quorum, guards and methodology versions.
    bytes32 public constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");

    /// @notice EIP-712 type hash of `Report`.
    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "Report(bytes32 feedId,uint256 priceX18,uint64 observedAt,uint16 methodologyVersion,bytes32 sourceHash)"
    );

    /// @notice Rounds retained per feed. With MIN_INTERVAL_SEC_FLOOR between rounds the history
    /// covers at least 4,096 x 15 min = 42.7 days; at one round per hour, 170 days.
    uint256 public constant HISTORY_CAPACITY = 4096;

    /// @notice Most reporters per feed (signer bitmaps use bits 1..31).
    uint256 public constant MAX_REPORTERS = 31;
    /// @notice Smallest allowed quorum: a round always needs three distinct reporters.
    uint256 public constant MIN_QUORUM = 3;
    /// @notice Largest accepted price: 1,000,000 USD per index unit (fits the 88-bit field).
    uint256 public constant MAX_PRICE_X18 = 1e24;

    /// @notice Hard bounds of the feed parameters.
    uint256 public constant MAX_AGE_SEC_FLOOR = 15 minutes;
    uint256 public constant MAX_AGE_SEC_CEILING = 7 days;
    uint256 public constant JUMP_GUARD_BPS_FLOOR = 100;
    uint256 public constant JUMP_GUARD_BPS_CEILING = 5_000;
    uint256 public constant CONFIRM_DELAY_SEC_FLOOR = 5 minutes;
    uint256 public constant MIN_INTERVAL_SEC_FLOOR = 15 minutes;
    uint256 public constant MIN_INTERVAL_SEC_CEILING = 1 days;

    // ---------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------

    /// @dev A verified round on its way into the history.
    struct Round {
        uint32 observedAt;
        uint88 priceX18;
        uint16 methodologyVersion;
        uint256 signerBitmap;
    }

    /// @dev Everything `submit` reads and writes about a feed except the held price, in one slot
    /// (8+8+8+16+32+16+32+32+40+32+16 = 240 bits), so a round costs one cold read and one write.
    struct FeedRecord {
        bool exists;
        uint8 quorum;
        uint8 reporterCount;
        uint16 methodologyVersion;
        uint32 maxAgeSec;
        uint16 jumpGuardBps;
        uint32 confirmDelaySec;
        uint32 minIntervalSec;
        uint40 roundCount;
        uint32 pendingObservedAt;
        uint16 prewarmedSlots;
    }

    mapping(bytes32 feedId => FeedRecord) internal _feeds;
    /// @dev Median of the held round; meaningful only while `pendingObservedAt` is not 0.
    mapping(bytes32 feedId => uint88) internal _pendingPrices;
    mapping(bytes32 feedId => ObservationHistory.Ring) internal _histories;
    /// @dev Reporter slot (1-based position in `_reporterLists`), 0 when not a reporter.
    mapping(bytes32 feedId => mapping(address reporter => uint256 slot)) internal _reporterSlots;
    mapping(bytes32 feedId => address[]) internal _reporterLists;
    bytes32[] internal _feedIds;

    // ---------------------------------------------------------------------------------------
    // Constructor
    // ---------------------------------------------------------------------------------------

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (a TimelockController in production).
    /// @param oracleAdmin Holder of ORACLE_ADMIN_ROLE (the same timelock after set-up).
    constructor(address admin, address oracleAdmin) EIP712("Tokenpit IndexOracle", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, oracleAdmin);
    }

    // ---------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IIndexOracle
    function createFeed(
        bytes32 feedId,
        FeedParams calldata params,
        uint16 methodologyVersion,
        address[] calldata reporters,
        uint8 quorum
    ) external onlyRole(ORACLE_ADMIN_ROLE) {
        if (feedId == bytes32(0)) revert FeedIdIsZero();
        FeedRecord storage feed = _feeds[feedId];
        if (feed.exists) revert FeedAlreadyExists(feedId);
        if (methodologyVersion == 0) revert FeedParamOutOfBounds("methodologyVersion", 0, 1, type(uint16).max);
        _feedIds.push(feedId);
        feed.exists = true;
        feed.methodologyVersion = methodologyVersion;
        emit FeedCreated(feedId, methodologyVersion);
        _setFeedParams(feedId, feed, params);
        _setReporters(feedId, feed, reporters, quorum);
    }

    /// @inheritdoc IIndexOracle
    function setFeedParams(bytes32 feedId, FeedParams calldata params) external onlyRole(ORACLE_ADMIN_ROLE) {
        _setFeedParams(feedId, _requireFeed(feedId), params);
    }

    /// @inheritdoc IIndexOracle
    function setReporters(
        bytes32 feedId,
        address[] calldata reporters,
        uint8 quorum
    ) external onlyRole(ORACLE_ADMIN_ROLE) {
        _setReporters(feedId, _requireFeed(feedId), reporters, quorum);
    }

    /// @inheritdoc IIndexOracle
    function setMethodologyVersion(bytes32 feedId, uint16 methodologyVersion) external onlyRole(ORACLE_ADMIN_ROLE) {
        FeedRecord storage feed = _requireFeed(feedId);
        uint16 current = feed.methodologyVersion;
        if (methodologyVersion <= current) revert MethodologyVersionNotIncreasing(methodologyVersion, current);
        feed.methodologyVersion = methodologyVersion;
        emit MethodologyVersionSet(feedId, methodologyVersion);
        if (feed.pendingObservedAt != 0) _dropHeldRound(feedId, feed);
    }

    // ---------------------------------------------------------------------------------------
    // Reporting
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IIndexOracle
    function submit(bytes32 feedId, SignedReport[] calldata reports) external {
        FeedRecord memory feed = _feeds[feedId];
        if (!feed.exists) revert UnknownFeed(feedId);
        uint256 count = reports.length;
        if (count < feed.quorum) revert QuorumNotMet(feedId, count, feed.quorum);
        if (count > feed.reporterCount) revert TooManyReports(feedId, count, feed.reporterCount);

        Observation memory last;
        if (feed.roundCount > 0) last = _histories[feedId].at(HISTORY_CAPACITY, feed.roundCount);
        uint256 observedAt = reports[0].report.observedAt;
        _checkRoundTime(feedId, feed, last, observedAt);

        (uint256 medianX18, uint256 signerBitmap) = _verifyReports(
            feedId,
            feed.methodologyVersion,
            reports,
            observedAt
        );
        // Round times fit 32 bits: _checkRoundTime bounds them by block.timestamp.
        // Prices fit 88 bits: every report is at most MAX_PRICE_X18 < 2^88, so is their median.
        Round memory round = Round({
            observedAt: uint32(observedAt),
            priceX18: uint88(medianX18),
            methodologyVersion: feed.methodologyVersion,
            signerBitmap: signerBitmap
        });
        _applyRound(feedId, feed, last, round);
    }

    /// @inheritdoc IIndexOracle
    function prewarmHistory(bytes32 feedId, uint256 slotCount) external {
        FeedRecord storage feed = _requireFeed(feedId);
        uint256 from = feed.prewarmedSlots;
        if (feed.roundCount > from) from = feed.roundCount;
        uint256 to = from + slotCount;
        if (to > HISTORY_CAPACITY) to = HISTORY_CAPACITY;
        if (from >= to) return;
        ObservationHistory.Ring storage ring = _histories[feedId];
        for (uint256 slot = from; slot < to; ++slot) ring.prewarm(slot);
        // to <= HISTORY_CAPACITY = 4096 fits 16 bits.
        feed.prewarmedSlots = uint16(to);
        emit HistoryPrewarmed(feedId, from, to);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IIndexOracle
    function latestPrice(bytes32 feedId) external view returns (uint256 priceX18, uint256 observedAt) {
        (Observation memory latest, uint256 maxAgeSec, ) = _latest(feedId);
        // Time rule: a price older than the feed's max age is stale.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp - latest.observedAt > maxAgeSec) revert FeedStale(feedId, latest.observedAt, maxAgeSec);
        return (latest.priceX18, latest.observedAt);
    }

    /// @inheritdoc IIndexOracle
    function peekLatest(
        bytes32 feedId
    ) external view returns (uint256 priceX18, uint256 observedAt, uint256 roundId, bool isStale) {
        (Observation memory latest, uint256 maxAgeSec, uint256 roundCount) = _latest(feedId);
        // Time rule: the staleness flag of the view.
        // solhint-disable-next-line not-rely-on-time
        return (latest.priceX18, latest.observedAt, roundCount, block.timestamp - latest.observedAt > maxAgeSec);
    }

    /// @inheritdoc IIndexOracle
    function observationAt(bytes32 feedId, uint256 roundId) external view returns (Observation memory) {
        uint256 roundCount = _requireFeed(feedId).roundCount;
        if (
            roundId == 0 ||
            roundId > roundCount ||
            roundId < ObservationHistory.oldestRoundId(HISTORY_CAPACITY, roundCount)
        ) {
            revert RoundNotInHistory(feedId, roundId);
        }
        return _histories[feedId].at(HISTORY_CAPACITY, roundId);
    }

    /// @inheritdoc IIndexOracle
    function twap(bytes32 feedId, uint256 fromTime, uint256 toTime) external view returns (uint256 twapX18) {
        (twapX18, , ) = _twap(feedId, fromTime, toTime);
    }

    /// @inheritdoc IIndexOracle
    function twapWithInfo(
        bytes32 feedId,
        uint256 fromTime,
        uint256 toTime
    ) external view returns (uint256 twapX18, uint256 roundsInWindow, uint16 methodologyVersion) {
        return _twap(feedId, fromTime, toTime);
    }

    /// @inheritdoc IIndexOracle
    function feedConfig(bytes32 feedId) external view returns (FeedConfig memory) {
        FeedRecord memory feed = _feeds[feedId];
        return
            FeedConfig({
                exists: feed.exists,
                quorum: feed.quorum,
                reporterCount: feed.reporterCount,
                methodologyVersion: feed.methodologyVersion,
                params: FeedParams({
                    maxAgeSec: feed.maxAgeSec,
                    jumpGuardBps: feed.jumpGuardBps,
                    confirmDelaySec: feed.confirmDelaySec,
                    minIntervalSec: feed.minIntervalSec
                })
            });
    }

    /// @inheritdoc IIndexOracle
    function feedState(bytes32 feedId) external view returns (FeedState memory) {
        FeedRecord memory feed = _feeds[feedId];
        return
            FeedState({
                roundCount: feed.roundCount,
                pendingObservedAt: feed.pendingObservedAt,
                pendingPriceX18: feed.pendingObservedAt == 0 ? 0 : _pendingPrices[feedId],
                prewarmedSlots: feed.prewarmedSlots
            });
    }

    /// @inheritdoc IIndexOracle
    function reportersOf(bytes32 feedId) external view returns (address[] memory) {
        return _reporterLists[feedId];
    }

    /// @inheritdoc IIndexOracle
    function isReporter(bytes32 feedId, address account) external view returns (bool) {
        return _reporterSlots[feedId][account] != 0;
    }

    /// @inheritdoc IIndexOracle
    function feedIds() external view returns (bytes32[] memory) {
        return _feedIds;
    }

    /// @inheritdoc IIndexOracle
    function reportDigest(Report calldata report) external view returns (bytes32) {
        return _reportDigest(report);
    }

    // ---------------------------------------------------------------------------------------
    // Internal: admin
    // ---------------------------------------------------------------------------------------

    function _requireFeed(bytes32 feedId) internal view returns (FeedRecord storage feed) {
        feed = _feeds[feedId];
        if (!feed.exists) revert UnknownFeed(feedId);
    }

    function _setFeedParams(bytes32 feedId, FeedRecord storage feed, FeedParams calldata params) internal {
        _checkBounds("maxAgeSec", params.maxAgeSec, MAX_AGE_SEC_FLOOR, MAX_AGE_SEC_CEILING);
        _checkBounds("jumpGuardBps", params.jumpGuardBps, JUMP_GUARD_BPS_FLOOR, JUMP_GUARD_BPS_CEILING);
        // A held jump must be confirmable well before the feed goes stale.
        _checkBounds("confirmDelaySec", params.confirmDelaySec, CONFIRM_DELAY_SEC_FLOOR, params.maxAgeSec / 2);
        // Rounds must be able to come faster than the feed goes stale.
        uint256 intervalCeiling =
            params.maxAgeSec / 2 < MIN_INTERVAL_SEC_CEILING ? params.maxAgeSec / 2 : MIN_INTERVAL_SEC_CEILING;
        _checkBounds("minIntervalSec", params.minIntervalSec, MIN_INTERVAL_SEC_FLOOR, intervalCeiling);
        feed.maxAgeSec = params.maxAgeSec;
        feed.jumpGuardBps = params.jumpGuardBps;
        feed.confirmDelaySec = params.confirmDelaySec;
        feed.minIntervalSec = params.minIntervalSec;
        emit FeedParamsSet(
            feedId,
            params.maxAgeSec,
            params.jumpGuardBps,
            params.confirmDelaySec,
            params.minIntervalSec
        );
    }

    function _checkBounds(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert FeedParamOutOfBounds(name, value, min, max);
    }

    function _setReporters(
        bytes32 feedId,
        FeedRecord storage feed,
        address[] calldata reporters,
        uint8 quorum
    ) internal {
        uint256 count = reporters.length;
        if (count == 0 || count > MAX_REPORTERS) revert ReporterCountOutOfBounds(count, MAX_REPORTERS);
        if (quorum < MIN_QUORUM || quorum > count || uint256(quorum) * 2 <= count) {
            revert QuorumOutOfBounds(quorum, count, MIN_QUORUM);
        }
        mapping(address => uint256) storage slots = _reporterSlots[feedId];
        address[] storage list = _reporterLists[feedId];
        for (uint256 i = list.length; i > 0; --i) {
            delete slots[list[i - 1]];
            list.pop();
        }
        for (uint256 i = 0; i < count; ++i) {
            address reporter = reporters[i];
            if (reporter == address(0)) revert ReporterIsZero();
            if (slots[reporter] != 0) revert ReporterDuplicated(reporter);
            slots[reporter] = i + 1;
            list.push(reporter);
        }
        feed.quorum = quorum;
        // count <= MAX_REPORTERS = 31 fits 8 bits.
        feed.reporterCount = uint8(count);
        emit ReportersSet(feedId, reporters, quorum);
    }

    // ---------------------------------------------------------------------------------------
    // Internal: reporting
    // ---------------------------------------------------------------------------------------

    /// @dev Checks the round's observation time against the clock and the previous rounds.
    function _checkRoundTime(
        bytes32 feedId,
        FeedRecord memory feed,
        Observation memory last,
        uint256 observedAt
    ) internal view {
        // Time rule: a report may not be observed in the future.
        // solhint-disable-next-line not-rely-on-time
        if (observedAt > block.timestamp) revert ReportFromFuture(feedId, observedAt, block.timestamp);
        uint256 lastRoundAt = feed.pendingObservedAt > last.observedAt ? feed.pendingObservedAt : last.observedAt;
        if (feed.roundCount > 0) {
            if (observedAt == lastRoundAt) revert ReportReplayed(feedId, observedAt);
            if (observedAt < lastRoundAt) revert ReportOutOfOrder(feedId, observedAt, lastRoundAt);
        }
        // Time rule: a report older than the feed's max age is stale.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp - observedAt > feed.maxAgeSec) revert ReportStale(feedId, observedAt, feed.maxAgeSec);
        if (feed.roundCount > 0 && observedAt < lastRoundAt + feed.minIntervalSec) {
            revert RoundTooSoon(feedId, observedAt, lastRoundAt + feed.minIntervalSec);
        }
    }

    /// @dev Checks every report and signature; returns the median price and the signer bitmap.
    function _verifyReports(
        bytes32 feedId,
        uint16 methodologyVersion,
        SignedReport[] calldata reports,
        uint256 observedAt
    ) internal view returns (uint256 medianX18, uint256 signerBitmap) {
        uint256 count = reports.length;
        uint256[] memory prices = new uint256[](count);
        mapping(address => uint256) storage slots = _reporterSlots[feedId];
        for (uint256 i = 0; i < count; ++i) {
            address signer;
            (prices[i], signer) = _checkReport(i, reports[i], feedId, observedAt, methodologyVersion);
            uint256 slot = slots[signer];
            if (slot == 0) revert SignerNotAuthorized(feedId, signer);
            uint256 bit = 1 << slot;
            if (signerBitmap & bit != 0) revert DuplicateSigner(feedId, signer);
            signerBitmap |= bit;
        }
        medianX18 = Median.sortAndMedian(prices);
    }

    /// @dev Checks one report's fields and signature; returns its price and its signer.
    function _checkReport(
        uint256 index,
        SignedReport calldata signed,
        bytes32 feedId,
        uint256 observedAt,
        uint16 methodologyVersion
    ) internal view returns (uint256 priceX18, address signer) {
        Report calldata report = signed.report;
        if (report.feedId != feedId) revert ReportFeedMismatch(index, report.feedId, feedId);
        if (signed.chainId != block.chainid) revert ReportWrongChain(index, signed.chainId, block.chainid);
        if (signed.oracle != address(this)) revert ReportWrongOracle(index, signed.oracle, address(this));
        if (report.observedAt != observedAt) revert ReportRoundMismatch(index, report.observedAt, observedAt);
        if (report.methodologyVersion != methodologyVersion) {
            revert ReportMethodologyMismatch(index, report.methodologyVersion, methodologyVersion);
        }
        priceX18 = report.priceX18;
        if (priceX18 == 0 || priceX18 > MAX_PRICE_X18) revert ReportPriceOutOfBounds(index, priceX18, MAX_PRICE_X18);
        signer = _recoverSigner(index, _reportDigest(report), signed.v, signed.r, signed.s);
    }

    function _recoverSigner(
        uint256 index,
        bytes32 digest,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) internal pure returns (address signer) {
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecover(digest, v, r, s);
        if (error == ECDSA.RecoverError.InvalidSignatureS) revert ReportSignatureMalleable(index);
        if (error != ECDSA.RecoverError.NoError) revert ReportSignatureInvalid(index);
        return recovered;
    }

    function _reportDigest(Report calldata report) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        REPORT_TYPEHASH,
                        report.feedId,
                        report.priceX18,
                        report.observedAt,
                        report.methodologyVersion,
                        report.sourceHash
                    )
                )
            );
    }

    /// @dev Accepts the round, holds it as a jump, or confirms the held jump with it.
    function _applyRound(bytes32 feedId, FeedRecord memory feed, Observation memory last, Round memory round) internal {
        bool hasHeld = feed.pendingObservedAt != 0;
        if (feed.roundCount == 0 || !BpsMath.deviationExceeds(last.priceX18, round.priceX18, feed.jumpGuardBps)) {
            if (hasHeld) _dropHeldRound(feedId, _feeds[feedId]);
            _accept(feedId, feed.roundCount, last, round);
            return;
        }
        uint88 heldPriceX18 = hasHeld ? _pendingPrices[feedId] : 0;
        if (hasHeld && !BpsMath.deviationExceeds(heldPriceX18, round.priceX18, feed.jumpGuardBps)) {
            uint256 earliest = uint256(feed.pendingObservedAt) + feed.confirmDelaySec;
            if (round.observedAt < earliest) revert JumpConfirmationTooEarly(feedId, round.observedAt, earliest);
            _confirmJump(feedId, feed, heldPriceX18, last, round);
            return;
        }
        // A different jump replaces the held round: both of its fields are overwritten below.
        if (hasHeld) emit HeldRoundDropped(feedId, heldPriceX18, feed.pendingObservedAt);
        _feeds[feedId].pendingObservedAt = round.observedAt;
        _pendingPrices[feedId] = round.priceX18;
        emit RoundHeld(feedId, round.priceX18, round.observedAt, last.priceX18, round.signerBitmap);
    }

    function _accept(
        bytes32 feedId,
        uint256 roundCount,
        Observation memory last,
        Round memory round
    ) internal returns (Observation memory next) {
        next = _histories[feedId].append(
            HISTORY_CAPACITY,
            roundCount,
            last,
            round.observedAt,
            round.priceX18,
            round.methodologyVersion
        );
        uint256 roundId = roundCount + 1;
        _feeds[feedId].roundCount = roundId.toUint40();
        emit RoundAccepted(feedId, roundId, round.priceX18, round.observedAt, round.signerBitmap);
    }

    /// @dev Records the held round at its own observation time, then the confirming round.
    /// The held round's signers were emitted with RoundHeld; its RoundAccepted carries bitmap 0.
    function _confirmJump(
        bytes32 feedId,
        FeedRecord memory feed,
        uint88 heldPriceX18,
        Observation memory last,
        Round memory round
    ) internal {
        Round memory heldRound = Round({
            observedAt: feed.pendingObservedAt,
            priceX18: heldPriceX18,
            methodologyVersion: round.methodologyVersion,
            signerBitmap: 0
        });
        _feeds[feedId].pendingObservedAt = 0;
        delete _pendingPrices[feedId];
        Observation memory held = _accept(feedId, feed.roundCount, last, heldRound);
        emit JumpConfirmed(feedId, heldRound.observedAt, round.observedAt);
        _accept(feedId, uint256(feed.roundCount) + 1, held, round);
    }

    function _dropHeldRound(bytes32 feedId, FeedRecord storage feed) internal {
        emit HeldRoundDropped(feedId, _pendingPrices[feedId], feed.pendingObservedAt);
        feed.pendingObservedAt = 0;
        delete _pendingPrices[feedId];
    }

    // ---------------------------------------------------------------------------------------
    // Internal: views
    // ---------------------------------------------------------------------------------------

    function _latest(
        bytes32 feedId
    ) internal view returns (Observation memory latest, uint256 maxAgeSec, uint256 roundCount) {
        FeedRecord storage feed = _requireFeed(feedId);
        maxAgeSec = feed.maxAgeSec;
        roundCount = feed.roundCount;
        if (roundCount == 0) revert FeedHasNoData(feedId);
        latest = _histories[feedId].at(HISTORY_CAPACITY, roundCount);
    }

    function _twap(
        bytes32 feedId,
        uint256 fromTime,
        uint256 toTime
    ) internal view returns (uint256 twapX18, uint256 roundsInWindow, uint16 methodologyVersion) {
        FeedRecord memory feed = _feeds[feedId];
        if (!feed.exists) revert UnknownFeed(feedId);
        if (fromTime >= toTime) revert TwapWindowInvalid(fromTime, toTime);
        // Time rule: a TWAP window may not end in the future.
        // solhint-disable-next-line not-rely-on-time
        if (toTime > block.timestamp) revert TwapWindowInFuture(toTime, block.timestamp);
        if (feed.pendingObservedAt != 0 && feed.pendingObservedAt <= toTime) {
            revert TwapPendingJump(feedId, feed.pendingObservedAt);
        }
        (uint256 toRound, Observation memory atTo) = _lastAtOrBefore(feedId, feed.roundCount, toTime);
        if (toTime - atTo.observedAt > feed.maxAgeSec) revert TwapDataStale(feedId, atTo.observedAt, toTime);
        (uint256 fromRound, Observation memory atFrom) = _lastAtOrBefore(feedId, feed.roundCount, fromTime);
        if (atFrom.methodologyVersion != atTo.methodologyVersion) {
            revert TwapSpansMethodologyChange(feedId, atFrom.methodologyVersion, atTo.methodologyVersion);
        }
        uint256 areaX18 =
            ObservationHistory.cumulativeAt(atTo, toTime) - ObservationHistory.cumulativeAt(atFrom, fromTime);
        // @dev Rounds down: the TWAP is a reference price, the exact floor of the integral.
        twapX18 = areaX18 / (toTime - fromTime);
        return (twapX18, toRound - fromRound, atTo.methodologyVersion);
    }

    function _lastAtOrBefore(
        bytes32 feedId,
        uint256 roundCount,
        uint256 time
    ) internal view returns (uint256 roundId, Observation memory observation) {
        if (roundCount == 0) revert FeedHasNoData(feedId);
        ObservationHistory.Ring storage ring = _histories[feedId];
        (roundId, observation) = ring.lastAtOrBefore(HISTORY_CAPACITY, roundCount, time);
        if (roundId == 0) {
            uint256 oldestId = ObservationHistory.oldestRoundId(HISTORY_CAPACITY, roundCount);
            revert TwapOutsideHistory(feedId, time, ring.at(HISTORY_CAPACITY, oldestId).observedAt);
        }
    }
}
