// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IClearinghouse} from "../../interfaces/IClearinghouse.sol";
import {IIndexOracle} from "../../interfaces/IIndexOracle.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {ClearinghouseStorage as S} from "../ClearinghouseStorage.sol";

/// @title SettlementLogic
/// @notice Expiry settlement of the clearinghouse: proposing the price from the oracle TWAP, the
/// guardian's challenge, the governance fallback, and closing positions at the final price.
library SettlementLogic {
    /// @notice Governance settlement prices stay within this many bps of the last index.
    uint256 internal constant GOVERNANCE_PRICE_BAND_BPS = 5_000;
    /// @notice Largest settlement price (the oracle's largest price).
    uint256 internal constant MAX_PRICE_X18 = 1e24;
    uint256 internal constant BPS = 10_000;

    /// @notice See `IClearinghouse.finalizeSettlement`.
    function finalize(S.Layout storage s, IIndexOracle oracle, uint32 seriesId) external {
        IClearinghouse.SeriesSpec memory spec = S.requireSeries(s, seriesId).spec;
        IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
        if (settlement.status != IClearinghouse.SettlementStatus.None) {
            revert IClearinghouse.SettlementStatusInvalid(seriesId, S.effectiveStatus(settlement));
        }
        // Time rule: a settlement price is proposed only after expiry.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp < spec.expiry) revert IClearinghouse.SeriesNotExpired(seriesId, spec.expiry);
        _requireCompleteData(oracle, seriesId, spec);
        (uint256 twapX18, uint256 rounds) = _settlementTwap(oracle, seriesId, spec);
        // Time rule: the dispute window starts with the proposal.
        // solhint-disable-next-line not-rely-on-time
        uint256 finalAt = block.timestamp + s.disputeWindowSec;
        settlement.status = IClearinghouse.SettlementStatus.Proposed;
        settlement.finalAt = uint64(finalAt);
        settlement.priceX18 = twapX18;
        emit IClearinghouse.SettlementProposed(seriesId, twapX18, rounds, finalAt);
    }

    /// @notice See `IClearinghouse.challengeSettlement`.
    function challenge(S.Layout storage s, uint32 seriesId) external {
        S.requireSeries(s, seriesId);
        IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
        if (settlement.status != IClearinghouse.SettlementStatus.Proposed) {
            revert IClearinghouse.SettlementStatusInvalid(seriesId, settlement.status);
        }
        // Time rule: a challenge comes within the dispute window.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp >= settlement.finalAt)
            revert IClearinghouse.DisputeWindowClosed(seriesId, settlement.finalAt);
        settlement.status = IClearinghouse.SettlementStatus.Challenged;
        emit IClearinghouse.SettlementChallenged(seriesId, msg.sender, settlement.priceX18);
    }

    /// @notice See `IClearinghouse.setSettlementPriceByGovernance`.
    function govern(S.Layout storage s, IIndexOracle oracle, uint32 seriesId, uint256 priceX18) external {
        IClearinghouse.SeriesSpec memory spec = S.requireSeries(s, seriesId).spec;
        IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
        IClearinghouse.SettlementStatus status = S.effectiveStatus(settlement);
        if (status != IClearinghouse.SettlementStatus.None && status != IClearinghouse.SettlementStatus.Challenged) {
            revert IClearinghouse.SettlementStatusInvalid(seriesId, status);
        }
        uint256 availableAt = uint256(spec.expiry) + s.governanceGraceSec;
        // Time rule: the governance fallback waits its grace period after expiry.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp < availableAt) revert IClearinghouse.GovernanceGracePending(seriesId, availableAt);
        if (status == IClearinghouse.SettlementStatus.None) _requireDataUnavailable(oracle, seriesId, spec);
        uint256 referenceX18 = _lastIndexOrZero(oracle, spec.feedId);
        (uint256 minPriceX18, uint256 maxPriceX18) = governanceBounds(referenceX18);
        if (priceX18 < minPriceX18 || priceX18 > maxPriceX18) {
            revert IClearinghouse.SettlementPriceOutOfBounds(seriesId, priceX18, minPriceX18, maxPriceX18);
        }
        settlement.status = IClearinghouse.SettlementStatus.Final;
        settlement.governed = true;
        // Time rule: the time the governed price became final.
        // solhint-disable-next-line not-rely-on-time
        settlement.finalAt = uint64(block.timestamp);
        settlement.priceX18 = priceX18;
        emit IClearinghouse.SettlementGoverned(seriesId, priceX18, referenceX18);
    }

    /// @notice Settles `accounts` in a final series; skips accounts without a position.
    /// @return settledCount Accounts settled.
    function settleAccounts(
        S.Layout storage s,
        uint32 seriesId,
        address[] calldata accounts
    ) external returns (uint256 settledCount) {
        S.SeriesRecord storage record = S.requireSeries(s, seriesId);
        IClearinghouse.Settlement storage settlement = s.settlements[seriesId];
        IClearinghouse.SettlementStatus status = S.effectiveStatus(settlement);
        if (status != IClearinghouse.SettlementStatus.Final)
            revert IClearinghouse.SettlementStatusInvalid(seriesId, status);
        uint256 priceX18 = settlement.priceX18;
        uint256 multiplier = record.spec.contractMultiplier;
        for (uint256 i = 0; i < accounts.length; ++i) {
            if (S.settlePosition(s, accounts[i], seriesId, priceX18, multiplier)) ++settledCount;
        }
    }

    /// @notice The bounds of a governance settlement price around the last index (any price when none).
    /// @dev The floor rounds up and the ceiling down: the bounds are never wider than stated.
    function governanceBounds(uint256 referenceX18) public pure returns (uint256 minX18, uint256 maxX18) {
        if (referenceX18 == 0) return (1, MAX_PRICE_X18);
        minX18 = FixedPointMath.mulDivUp(referenceX18, BPS - GOVERNANCE_PRICE_BAND_BPS, BPS);
        maxX18 = FixedPointMath.mulDivDown(referenceX18, BPS + GOVERNANCE_PRICE_BAND_BPS, BPS);
        if (maxX18 > MAX_PRICE_X18) maxX18 = MAX_PRICE_X18;
    }

    /// @dev Refuses to finalize while an oracle round observed before expiry may still be submitted.
    function _requireCompleteData(
        IIndexOracle oracle,
        uint32 seriesId,
        IClearinghouse.SeriesSpec memory spec
    ) private view {
        uint256 lastObservedAt = 0;
        try oracle.peekLatest(spec.feedId) returns (uint256, uint256 observedAt, uint256, bool) {
            lastObservedAt = observedAt;
        } catch {} // solhint-disable-line no-empty-blocks
        if (lastObservedAt >= spec.expiry) return;
        uint256 readyAt = uint256(spec.expiry) + oracle.feedConfig(spec.feedId).params.maxAgeSec;
        // Time rule: without a round after expiry, the data is complete only once the max age has passed.
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp <= readyAt)
            revert IClearinghouse.SettlementDataIncomplete(seriesId, lastObservedAt, readyAt);
    }

    /// @dev The oracle TWAP over the window, checked for methodology version and round count.
    function _settlementTwap(
        IIndexOracle oracle,
        uint32 seriesId,
        IClearinghouse.SeriesSpec memory spec
    ) private view returns (uint256 twapX18, uint256 rounds) {
        (bool ok, uint256 twap, uint256 roundsInWindow, uint16 version, bytes memory reason) = _windowTwap(
            oracle,
            spec
        );
        if (!ok) revert IClearinghouse.SettlementDataUnavailable(seriesId, reason);
        if (version != spec.methodologyVersion) {
            revert IClearinghouse.SettlementMethodologyMismatch(seriesId, version, spec.methodologyVersion);
        }
        if (roundsInWindow < spec.minSettlementRounds) {
            revert IClearinghouse.SettlementTooFewRounds(seriesId, roundsInWindow, spec.minSettlementRounds);
        }
        return (twap, roundsInWindow);
    }

    /// @dev Governance may only replace an automatic settlement that cannot happen.
    function _requireDataUnavailable(
        IIndexOracle oracle,
        uint32 seriesId,
        IClearinghouse.SeriesSpec memory spec
    ) private view {
        (bool ok, uint256 twapX18, uint256 rounds, uint16 version, ) = _windowTwap(oracle, spec);
        if (ok && version == spec.methodologyVersion && rounds >= spec.minSettlementRounds) {
            revert IClearinghouse.SettlementDataAvailable(seriesId, twapX18);
        }
    }

    /// @dev The oracle's TWAP over the series' averaging window, or the oracle's revert data.
    function _windowTwap(
        IIndexOracle oracle,
        IClearinghouse.SeriesSpec memory spec
    ) private view returns (bool ok, uint256 twapX18, uint256 rounds, uint16 version, bytes memory reason) {
        try oracle.twapWithInfo(spec.feedId, uint256(spec.expiry) - spec.averagingWindowSec, spec.expiry) returns (
            uint256 twap,
            uint256 roundsInWindow,
            uint16 methodologyVersion
        ) {
            return (true, twap, roundsInWindow, methodologyVersion, "");
        } catch (bytes memory oracleError) {
            return (false, 0, 0, 0, oracleError);
        }
    }

    function _lastIndexOrZero(IIndexOracle oracle, bytes32 feedId) private view returns (uint256) {
        try oracle.peekLatest(feedId) returns (uint256 latestX18, uint256, uint256, bool) {
            return latestX18;
        } catch {
            return 0;
        }
    }
}
