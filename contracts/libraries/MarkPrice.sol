// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMath} from "./FixedPointMath.sol";

/// @title MarkPrice
/// @notice The mark price of a dated future: the index plus a time-weighted, clamped EMA of the
/// traded basis, and inside the averaging window the part of the settlement average already observed.
/// @dev Pure functions; the clearinghouse stores the state and the TypeScript model in
/// `sdk/core/mark.ts` mirrors every function name and rounding.
///
/// The EMA is time-weighted: each sample stands until the next one, and while it stands it pulls
/// the EMA toward itself linearly over `periodSec` (B <- B + min(dt, T) x (b - B) / T). A new trade
/// therefore moves the mark not at all in its own block and fully only after standing for a whole
/// period unopposed; every sample is clamped to +-band of the index first, so one trade in a thin
/// book can never move the mark by more than the band.
library MarkPrice {
    using FixedPointMath for int256;

    /// @notice Basis points in one whole.
    uint256 internal constant BPS = 10_000;

    /// @notice The EMA at `nowSec`, given the EMA and the standing sample at `lastSampleAt`.
    /// @dev Rounds toward zero (neutral: the mark serves both sides of every position).
    /// @param emaX18 EMA as of the last sample.
    /// @param lastSampleX18 The standing sample.
    /// @param lastSampleAt When it was taken; 0 means no sample yet (the EMA is then 0).
    /// @param nowSec Current time, not before `lastSampleAt`.
    /// @param periodSec EMA period.
    /// @return basisX18 The EMA at `nowSec`.
    function basisAt(
        int256 emaX18,
        int256 lastSampleX18,
        uint256 lastSampleAt,
        uint256 nowSec,
        uint256 periodSec
    ) internal pure returns (int256 basisX18) {
        if (lastSampleAt == 0) return emaX18;
        uint256 elapsed = nowSec - lastSampleAt;
        if (elapsed > periodSec) elapsed = periodSec;
        return emaX18 + (lastSampleX18 - emaX18).mulDivSignedTowardZero(elapsed, periodSec);
    }

    /// @notice Clamps a basis to +-`bandBps` of the index.
    /// @dev The limit rounds down (toward a tighter clamp).
    function clampBasis(int256 basisX18, uint256 indexX18, uint256 bandBps) internal pure returns (int256) {
        int256 limit = int256(FixedPointMath.mulDivDown(indexX18, bandBps, BPS));
        if (basisX18 > limit) return limit;
        if (basisX18 < -limit) return -limit;
        return basisX18;
    }

    /// @notice The mark from the index, the current basis and the averaging window.
    /// @dev Before the window: index + basis. Inside it, with the oracle's accepted rounds observed until
    /// `observedUntil` (clamped to the window): (observedAvg x observed + (index + basis) x rest) / window.
    /// Rounds down (neutral, as above). `basisX18` must already be clamped so index + basis > 0.
    /// @param indexX18 Latest accepted index.
    /// @param basisX18 Current clamped basis.
    /// @param windowStart Start of the averaging window (expiry - window length).
    /// @param expiry End of the window.
    /// @param observedUntil Time of the latest accepted oracle round.
    /// @param observedAvgX18 Oracle TWAP over [windowStart, observedUntil] (ignored when that is empty).
    /// @return markX18 The mark price.
    function markFrom(
        uint256 indexX18,
        int256 basisX18,
        uint256 windowStart,
        uint256 expiry,
        uint256 observedUntil,
        uint256 observedAvgX18
    ) internal pure returns (uint256 markX18) {
        uint256 forwardX18 = uint256(int256(indexX18) + basisX18);
        if (observedUntil <= windowStart) return forwardX18;
        if (observedUntil > expiry) observedUntil = expiry;
        uint256 observedSec = observedUntil - windowStart;
        uint256 remainingSec = expiry - observedUntil;
        return (observedAvgX18 * observedSec + forwardX18 * remainingSec) / (expiry - windowStart);
    }
}
