// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IIndexOracle
/// @notice Index prices of the exchange's underlyings (AI token prices, GPU-hour rental prices),
/// published by a set of reporters through signed EIP-712 reports, with a price-time history
/// from which any time-weighted average inside the history is exact.
/// @dev Units: prices are 18-decimal fixed point (`...X18`), in USD per index unit (USD per 1M
/// tokens for AIT, USD per GPU-hour for GPUH). Times are unix seconds. A round is one observation
/// time of one feed; its price is the median of the reports of at least `quorum` distinct
/// authorized reporters. Between rounds the price is the last accepted one (a step function);
/// the TWAP integrates that step function exactly.
///
/// Assumptions. Correctness: fewer than half of the reports in any accepted round come from
/// dishonest reporters (so quorum > reporters / 2 is enforced), and the oracle admin is behind a
/// timelock. Liveness: at least `quorum` reporters sign a round within every `maxAgeSec`.
interface IIndexOracle {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice What a reporter signs (EIP-712 type `Report`).
    /// @param feedId The feed, e.g. bytes32("AIT").
    /// @param priceX18 The index value the reporter computed, 18-decimal fixed point.
    /// @param observedAt The round's observation time (unix seconds); all reports of a round share it.
    /// @param methodologyVersion The index methodology version the value was computed with.
    /// @param sourceHash Hash of the source data the reporter used (for audit and disputes).
    struct Report {
        bytes32 feedId;
        uint256 priceX18;
        uint64 observedAt;
        uint16 methodologyVersion;
        bytes32 sourceHash;
    }

    /// @notice A report with its signature and the EIP-712 domain the reporter signed it for.
    /// @param report The signed report.
    /// @param chainId The chain id of the domain the reporter signed under.
    /// @param oracle The verifying contract of the domain the reporter signed under.
    /// @param v Signature recovery id (27 or 28).
    /// @param r Signature r.
    /// @param s Signature s (low-s form only).
    struct SignedReport {
        Report report;
        uint256 chainId;
        address oracle;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice Risk parameters of a feed, each within the oracle's hard bounds.
    /// @param maxAgeSec A price older than this is stale: reads revert and reports are refused.
    /// @param jumpGuardBps A round whose median moves more than this from the last accepted price
    /// is held until a later round confirms it.
    /// @param confirmDelaySec The confirming round must be observed at least this long after the held one.
    /// @param minIntervalSec Minimum time between rounds; bounds how fast the history is consumed.
    struct FeedParams {
        uint32 maxAgeSec;
        uint16 jumpGuardBps;
        uint32 confirmDelaySec;
        uint32 minIntervalSec;
    }

    /// @notice Configuration of a feed.
    /// @param exists True once the feed is created.
    /// @param quorum Minimum number of distinct authorized reporters per round.
    /// @param reporterCount Number of authorized reporters.
    /// @param methodologyVersion The methodology version reports must carry.
    /// @param params The feed's risk parameters.
    struct FeedConfig {
        bool exists;
        uint8 quorum;
        uint8 reporterCount;
        uint16 methodologyVersion;
        FeedParams params;
    }

    /// @notice One accepted round, packed in one storage slot.
    /// @param observedAt Observation time of the round (unix seconds).
    /// @param priceX18 The round's median price, 18-decimal fixed point.
    /// @param methodologyVersion The methodology version of the round.
    /// @param cumulativeX18 Integral of the price over time (price x seconds, 18 decimals) from the
    /// feed's first round up to `observedAt`.
    struct Observation {
        uint32 observedAt;
        uint88 priceX18;
        uint16 methodologyVersion;
        uint120 cumulativeX18;
    }

    /// @notice Mutable per-feed state, packed in one storage slot.
    /// @param roundCount Number of rounds ever accepted; the latest round id.
    /// @param pendingObservedAt Observation time of the held round, 0 if none.
    /// @param pendingPriceX18 Median of the held round (0 if none).
    /// @param prewarmedSlots History slots written with a placeholder by `prewarmHistory`.
    struct FeedState {
        uint40 roundCount;
        uint32 pendingObservedAt;
        uint88 pendingPriceX18;
        uint16 prewarmedSlots;
    }

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice Thrown when a feed id is not registered.
    error UnknownFeed(bytes32 feedId);
    /// @notice Thrown when creating a feed whose id is already registered.
    error FeedAlreadyExists(bytes32 feedId);
    /// @notice Thrown when a feed id is zero.
    error FeedIdIsZero();
    /// @notice Thrown when a feed parameter is outside the oracle's hard bounds.
    error FeedParamOutOfBounds(bytes32 param, uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when a reporter set is empty or larger than the maximum.
    error ReporterCountOutOfBounds(uint256 count, uint256 max);
    /// @notice Thrown when the quorum is not a strict majority of the reporters or below the minimum.
    error QuorumOutOfBounds(uint256 quorum, uint256 reporterCount, uint256 minQuorum);
    /// @notice Thrown when a reporter address is zero.
    error ReporterIsZero();
    /// @notice Thrown when a reporter appears twice in a reporter set.
    error ReporterDuplicated(address reporter);
    /// @notice Thrown when a new methodology version is not greater than the current one.
    error MethodologyVersionNotIncreasing(uint16 version, uint16 current);

    /// @notice Thrown when a submission carries fewer reports than the quorum.
    error QuorumNotMet(bytes32 feedId, uint256 reports, uint256 quorum);
    /// @notice Thrown when a submission carries more reports than the feed has reporters.
    error TooManyReports(bytes32 feedId, uint256 reports, uint256 reporterCount);
    /// @notice Thrown when a report is for another feed than the submission.
    error ReportFeedMismatch(uint256 index, bytes32 reportFeedId, bytes32 feedId);
    /// @notice Thrown when a report was signed for another chain.
    error ReportWrongChain(uint256 index, uint256 chainId, uint256 expectedChainId);
    /// @notice Thrown when a report was signed for another oracle contract.
    error ReportWrongOracle(uint256 index, address oracle, address expectedOracle);
    /// @notice Thrown when a report's observation time differs from the round's (report 0).
    error ReportRoundMismatch(uint256 index, uint256 observedAt, uint256 roundObservedAt);
    /// @notice Thrown when a report carries another methodology version than the feed's current one.
    error ReportMethodologyMismatch(uint256 index, uint16 version, uint16 expectedVersion);
    /// @notice Thrown when a report's price is zero or above the maximum price.
    error ReportPriceOutOfBounds(uint256 index, uint256 priceX18, uint256 maxPriceX18);
    /// @notice Thrown when a round is observed after the current block time.
    error ReportFromFuture(bytes32 feedId, uint256 observedAt, uint256 blockTime);
    /// @notice Thrown when a round is older than the feed's max age.
    error ReportStale(bytes32 feedId, uint256 observedAt, uint256 maxAgeSec);
    /// @notice Thrown when a round has the observation time of the last accepted or held round.
    error ReportReplayed(bytes32 feedId, uint256 observedAt);
    /// @notice Thrown when a round is older than the last accepted or held round.
    error ReportOutOfOrder(bytes32 feedId, uint256 observedAt, uint256 lastObservedAt);
    /// @notice Thrown when a round comes less than `minIntervalSec` after the previous one.
    error RoundTooSoon(bytes32 feedId, uint256 observedAt, uint256 earliestObservedAt);
    /// @notice Thrown when a signature cannot be recovered (bad length, zero address, bad v).
    error ReportSignatureInvalid(uint256 index);
    /// @notice Thrown when a signature has a high s value (the malleable twin of a valid one).
    error ReportSignatureMalleable(uint256 index);
    /// @notice Thrown when a report's signer is not an authorized reporter of the feed.
    error SignerNotAuthorized(bytes32 feedId, address signer);
    /// @notice Thrown when two reports of one submission have the same signer.
    error DuplicateSigner(bytes32 feedId, address signer);
    /// @notice Thrown when a round confirms a held jump earlier than the feed's confirmation delay.
    error JumpConfirmationTooEarly(bytes32 feedId, uint256 observedAt, uint256 earliestObservedAt);

    /// @notice Thrown when a feed has no accepted round yet.
    error FeedHasNoData(bytes32 feedId);
    /// @notice Thrown when reading a price older than the feed's max age.
    error FeedStale(bytes32 feedId, uint256 observedAt, uint256 maxAgeSec);
    /// @notice Thrown when a round id is not in the retained history.
    error RoundNotInHistory(bytes32 feedId, uint256 roundId);
    /// @notice Thrown when a TWAP window is empty or reversed.
    error TwapWindowInvalid(uint256 fromTime, uint256 toTime);
    /// @notice Thrown when a TWAP window ends after the current block time.
    error TwapWindowInFuture(uint256 toTime, uint256 blockTime);
    /// @notice Thrown when a TWAP window starts before the oldest retained round.
    error TwapOutsideHistory(bytes32 feedId, uint256 fromTime, uint256 oldestObservedAt);
    /// @notice Thrown when the last round before a TWAP window's end is older than the max age.
    error TwapDataStale(bytes32 feedId, uint256 lastObservedAt, uint256 toTime);
    /// @notice Thrown when a held jump lies inside a TWAP window, so the window's prices are not final.
    error TwapPendingJump(bytes32 feedId, uint256 pendingObservedAt);
    /// @notice Thrown when a TWAP window contains rounds of two methodology versions.
    error TwapSpansMethodologyChange(bytes32 feedId, uint16 fromVersion, uint16 toVersion);

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice Emitted when a feed is created.
    /// @param feedId The feed.
    /// @param methodologyVersion Its initial methodology version.
    event FeedCreated(bytes32 indexed feedId, uint16 methodologyVersion);

    /// @notice Emitted when a feed's risk parameters are set.
    /// @param feedId The feed.
    /// @param maxAgeSec Max age of a price, seconds.
    /// @param jumpGuardBps Jump guard, basis points of the last accepted price.
    /// @param confirmDelaySec Confirmation delay of a held jump, seconds.
    /// @param minIntervalSec Minimum time between rounds, seconds.
    event FeedParamsSet(
        bytes32 indexed feedId,
        uint32 maxAgeSec,
        uint16 jumpGuardBps,
        uint32 confirmDelaySec,
        uint32 minIntervalSec
    );

    /// @notice Emitted when a feed's reporter set and quorum are replaced.
    /// @param feedId The feed.
    /// @param reporters The new reporters, in bitmap order (bit i+1 is reporters[i]).
    /// @param quorum Minimum distinct reporters per round.
    event ReportersSet(bytes32 indexed feedId, address[] reporters, uint8 quorum);

    /// @notice Emitted when a feed moves to a new methodology version.
    /// @param feedId The feed.
    /// @param methodologyVersion The version reports must now carry.
    event MethodologyVersionSet(bytes32 indexed feedId, uint16 methodologyVersion);

    /// @notice Emitted when a round is accepted into the history.
    /// @param feedId The feed.
    /// @param roundId The round's id (1 for the first round of the feed).
    /// @param priceX18 The round's median price, 18 decimals.
    /// @param observedAt The round's observation time.
    /// @param signerBitmap Bit i set when reporter slot i signed (slots as in ReportersSet, from 1).
    event RoundAccepted(
        bytes32 indexed feedId,
        uint256 indexed roundId,
        uint256 priceX18,
        uint256 observedAt,
        uint256 signerBitmap
    );

    /// @notice Emitted when a round's median moved more than the jump guard and is held.
    /// @param feedId The feed.
    /// @param priceX18 The held median, 18 decimals.
    /// @param observedAt The held round's observation time.
    /// @param referencePriceX18 The last accepted price it was compared with.
    /// @param signerBitmap Reporter slots that signed the held round.
    event RoundHeld(
        bytes32 indexed feedId,
        uint256 priceX18,
        uint256 observedAt,
        uint256 referencePriceX18,
        uint256 signerBitmap
    );

    /// @notice Emitted when a held round is confirmed by a later round and enters the history.
    /// @param feedId The feed.
    /// @param heldObservedAt The held round's observation time.
    /// @param confirmingObservedAt The confirming round's observation time.
    event JumpConfirmed(bytes32 indexed feedId, uint256 heldObservedAt, uint256 confirmingObservedAt);

    /// @notice Emitted when history slots are pre-written.
    /// @param feedId The feed.
    /// @param fromSlot First slot written.
    /// @param toSlot One past the last slot written.
    event HistoryPrewarmed(bytes32 indexed feedId, uint256 fromSlot, uint256 toSlot);

    /// @notice Emitted when a held round is dropped: refuted by a later round near the last
    /// accepted price, replaced by another jump, or cleared by a methodology change.
    /// @param feedId The feed.
    /// @param priceX18 The dropped median.
    /// @param observedAt The dropped round's observation time.
    event HeldRoundDropped(bytes32 indexed feedId, uint256 priceX18, uint256 observedAt);

    // ---------------------------------------------------------------------------------------
    // Admin (ORACLE_ADMIN_ROLE, held by the timelock)
    // ---------------------------------------------------------------------------------------

    /// @notice Creates a feed with its parameters, methodology version and reporter set.
    /// @param feedId The feed id, e.g. bytes32("AIT"); not zero, not registered.
    /// @param params Risk parameters within the hard bounds.
    /// @param methodologyVersion The methodology version reports must carry (at least 1).
    /// @param reporters Authorized reporters (1 to MAX_REPORTERS distinct non-zero addresses).
    /// @param quorum Minimum distinct reporters per round: more than half of them, at least MIN_QUORUM.
    function createFeed(
        bytes32 feedId,
        FeedParams calldata params,
        uint16 methodologyVersion,
        address[] calldata reporters,
        uint8 quorum
    ) external;

    /// @notice Replaces a feed's risk parameters.
    /// @param feedId The feed.
    /// @param params Risk parameters within the hard bounds.
    function setFeedParams(bytes32 feedId, FeedParams calldata params) external;

    /// @notice Replaces a feed's reporter set and quorum in one step.
    /// @dev Warning: reports already signed by removed reporters stop counting at once.
    /// @param feedId The feed.
    /// @param reporters Authorized reporters (1 to MAX_REPORTERS distinct non-zero addresses).
    /// @param quorum Minimum distinct reporters per round: more than half of them, at least MIN_QUORUM.
    function setReporters(bytes32 feedId, address[] calldata reporters, uint8 quorum) external;

    /// @notice Moves a feed to a new methodology version; later reports must carry it.
    /// @dev A held round (of the old version) is dropped. TWAP windows may not span the change.
    /// @param feedId The feed.
    /// @param methodologyVersion The new version, greater than the current one.
    function setMethodologyVersion(bytes32 feedId, uint16 methodologyVersion) external;

    // ---------------------------------------------------------------------------------------
    // Reporting (anyone may transmit)
    // ---------------------------------------------------------------------------------------

    /// @notice Submits one round of signed reports; the median of their prices is accepted, or
    /// held when it moves more than the jump guard from the last accepted price.
    /// @dev All reports must be for `feedId`, for this chain and contract, share one observation
    /// time, carry the feed's methodology version, and come from distinct authorized reporters.
    /// Correctness assumes fewer than half of the reports are dishonest.
    /// @param feedId The feed.
    /// @param reports At least `quorum` signed reports, at most one per reporter.
    function submit(bytes32 feedId, SignedReport[] calldata reports) external;

    /// @notice Pre-writes up to `slotCount` unused history slots of a feed (anyone may pay for it),
    /// so later rounds store into a warm slot (about 17,000 gas cheaper per round until the ring
    /// has wrapped once, after which every slot is warm anyway). No effect on prices.
    /// @param feedId The feed.
    /// @param slotCount Slots to pre-write, beyond those already written; capped at HISTORY_CAPACITY.
    function prewarmHistory(bytes32 feedId, uint256 slotCount) external;

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice The latest accepted price; reverts when the feed is stale or has no data.
    /// @param feedId The feed.
    /// @return priceX18 The price, 18 decimals.
    /// @return observedAt Its observation time.
    function latestPrice(bytes32 feedId) external view returns (uint256 priceX18, uint256 observedAt);

    /// @notice The latest accepted round without the staleness check, with staleness reported.
    /// @param feedId The feed.
    /// @return priceX18 The price, 18 decimals.
    /// @return observedAt Its observation time.
    /// @return roundId The round id.
    /// @return isStale True when older than the feed's max age.
    function peekLatest(
        bytes32 feedId
    ) external view returns (uint256 priceX18, uint256 observedAt, uint256 roundId, bool isStale);

    /// @notice A retained round by id.
    /// @param feedId The feed.
    /// @param roundId The round id, within the last HISTORY_CAPACITY rounds.
    /// @return observation The round.
    function observationAt(bytes32 feedId, uint256 roundId) external view returns (Observation memory observation);

    /// @notice The exact time-weighted average price over [fromTime, toTime], rounded down.
    /// @param feedId The feed.
    /// @param fromTime Window start; at or after the oldest retained round.
    /// @param toTime Window end; after fromTime, not in the future.
    /// @return twapX18 The average price, 18 decimals.
    function twap(bytes32 feedId, uint256 fromTime, uint256 toTime) external view returns (uint256 twapX18);

    /// @notice `twap` with the number of rounds observed inside the window and their methodology version.
    /// @param feedId The feed.
    /// @param fromTime Window start.
    /// @param toTime Window end.
    /// @return twapX18 The average price, 18 decimals.
    /// @return roundsInWindow Rounds with fromTime < observedAt <= toTime.
    /// @return methodologyVersion The single methodology version of every price in the window.
    function twapWithInfo(
        bytes32 feedId,
        uint256 fromTime,
        uint256 toTime
    ) external view returns (uint256 twapX18, uint256 roundsInWindow, uint16 methodologyVersion);

    /// @notice A feed's configuration.
    function feedConfig(bytes32 feedId) external view returns (FeedConfig memory config);

    /// @notice A feed's round count and held round.
    function feedState(bytes32 feedId) external view returns (FeedState memory state);

    /// @notice A feed's reporters in slot order.
    function reportersOf(bytes32 feedId) external view returns (address[] memory reporters);

    /// @notice True when `account` is an authorized reporter of the feed.
    function isReporter(bytes32 feedId, address account) external view returns (bool);

    /// @notice Every registered feed id, in creation order.
    function feedIds() external view returns (bytes32[] memory ids);

    /// @notice The EIP-712 digest a reporter signs for `report` on this chain and contract.
    function reportDigest(Report calldata report) external view returns (bytes32 digest);
}
