// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarkPrice} from "contracts/libraries/MarkPrice.sol";

/// @notice SMTChecker harness for MarkPrice (clampBasis and basisAt call mulDiv: run against models/Math.sol;
/// markFrom is plain Solidity). Domain: prices and bases up to 1e24 in magnitude (MAX_PRICE_X18), band up
/// to 5,000 bps (MAX_ORDER_BAND_BPS), times and periods below 2^40 seconds.
contract MarkPriceProps {
    uint256 internal constant MAX_PRICE = 1e24;
    int256 internal constant MAX_BASIS = 1e24;
    int256 internal constant MIN_BASIS = -1e24;
    uint256 internal constant MAX_BAND = 5_000;
    uint256 internal constant MAX_TIME = 0x10000000000;

    /// clampBasis keeps the basis within +-floor(index x band / 1e4), leaves an in-band basis unchanged,
    /// and keeps index + basis positive for a positive index (what markFrom requires).
    function clampWithinBand(int256 basis, uint256 index, uint256 band) public pure {
        require(index <= MAX_PRICE && band <= MAX_BAND);
        int256 r = MarkPrice.clampBasis(basis, index, band);
        int256 limit = int256((index * band) / 10_000);
        assert(-limit <= r && r <= limit);
        if (-limit <= basis && basis <= limit) assert(r == basis);
        if (index > 0) assert(int256(index) + r > 0);
    }

    /// basisAt moves the EMA toward the standing sample and never past it; not at all in the sample's
    /// own second, and all the way after a full period.
    function basisAtMovesToward(int256 ema, int256 sample, uint256 lastAt, uint256 nowSec, uint256 period) public pure {
        require(ema >= MIN_BASIS && ema <= MAX_BASIS && sample >= MIN_BASIS && sample <= MAX_BASIS);
        require(lastAt > 0 && lastAt <= nowSec && nowSec < MAX_TIME && period > 0 && period < MAX_TIME);
        int256 r = MarkPrice.basisAt(ema, sample, lastAt, nowSec, period);
        int256 lo = ema < sample ? ema : sample;
        int256 hi = ema < sample ? sample : ema;
        assert(lo <= r && r <= hi);
        if (nowSec == lastAt) assert(r == ema);
        if (nowSec - lastAt >= period) assert(r == sample);
    }

    /// basisAt with no sample yet returns the stored EMA.
    function basisAtWithoutSample(int256 ema, int256 sample, uint256 nowSec, uint256 period) public pure {
        assert(MarkPrice.basisAt(ema, sample, 0, nowSec, period) == ema);
    }

    /// markFrom: the forward price before the window, the observed average once the window is fully
    /// observed, and in between a value between the two (a weighted average), without overflow.
    function markFromIsWeightedAverage(
        uint256 index,
        int256 basis,
        uint256 windowStart,
        uint256 expiry,
        uint256 observedUntil,
        uint256 observedAvg
    ) public pure {
        require(index <= MAX_PRICE && basis >= MIN_BASIS && basis <= MAX_BASIS && int256(index) + basis > 0);
        require(windowStart < expiry && expiry < MAX_TIME && observedUntil < MAX_TIME && observedAvg <= MAX_PRICE);
        uint256 m = MarkPrice.markFrom(index, basis, windowStart, expiry, observedUntil, observedAvg);
        uint256 forward = uint256(int256(index) + basis);
        if (observedUntil <= windowStart) assert(m == forward);
        if (observedUntil >= expiry) assert(m == observedAvg);
        uint256 lo = forward < observedAvg ? forward : observedAvg;
        uint256 hi = forward < observedAvg ? observedAvg : forward;
        assert(lo <= m && m <= hi);
    }

    // Reachability witness (scripts/verify-smt.ts expects its assertion to be VIOLATED): inside the window the
    // mark differs from the forward price, so the weighted-average branch is reachable in the domain.
    function reachInsideWindow(
        uint256 index,
        int256 basis,
        uint256 windowStart,
        uint256 expiry,
        uint256 observedUntil,
        uint256 observedAvg
    ) public pure {
        require(index <= MAX_PRICE && basis >= MIN_BASIS && basis <= MAX_BASIS && int256(index) + basis > 0);
        require(windowStart < observedUntil && observedUntil < expiry && expiry < MAX_TIME && observedAvg <= MAX_PRICE);
        uint256 m = MarkPrice.markFrom(index, basis, windowStart, expiry, observedUntil, observedAvg);
        assert(m == uint256(int256(index) + basis));
    }
}
