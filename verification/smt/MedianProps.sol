// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Median} from "contracts/libraries/Median.sol";

/// @notice SMTChecker harness for Median.sortAndMedian (real library code) on lists of fixed length:
/// the checker has to reason through the insertion sort's loops, which it can only do for small n.
/// Only the returned median is asserted on: the checker does not track writes through a memory-array
/// reference passed to an internal function, so the caller's copy of `values` is unknown after the call.
contract MedianProps {
    /// Two values: the median is their mean rounded down, computed without overflow for all uint256 inputs.
    function medianOfTwo(uint256 a, uint256 b) public pure {
        uint256[] memory values = new uint256[](2);
        values[0] = a;
        values[1] = b;
        uint256 m = Median.sortAndMedian(values);
        uint256 lo = a < b ? a : b;
        uint256 hi = a < b ? b : a;
        assert(lo <= m && m <= hi);
        assert(hi - m >= m - lo && (hi - m) - (m - lo) <= 1);
    }

    /// Three values: the median is one of them, and with one arbitrary value (f = 1 < n / 2) it stays
    /// within the range of the other two, whichever value is the arbitrary one.
    function medianOfThree(uint256 a, uint256 b, uint256 c) public pure {
        uint256[] memory values = new uint256[](3);
        values[0] = a;
        values[1] = b;
        values[2] = c;
        uint256 m = Median.sortAndMedian(values);
        assert(m == a || m == b || m == c);
        assert((a <= m || b <= m) && (m <= a || m <= b));
        assert((a <= m || c <= m) && (m <= a || m <= c));
        assert((b <= m || c <= m) && (m <= b || m <= c));
    }

    // Reachability witness (scripts/verify-smt.ts expects its assertion to be VIOLATED): a strictly decreasing
    // list takes the most loop iterations (every element moves to the front), so a reported violation shows
    // the bounded unrolling covers the longest path; with too few unrollings BMC drops paths and would
    // report this assertion safe.
    function reachReverseSorted(uint256 a, uint256 b, uint256 c) public pure {
        require(a > b && b > c);
        uint256[] memory values = new uint256[](3);
        values[0] = a;
        values[1] = b;
        values[2] = c;
        assert(Median.sortAndMedian(values) != b);
    }
}
