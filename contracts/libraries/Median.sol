// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Median
/// @notice Median of a short list of values, sorted in place.
library Median {
    /// @notice Sorts `values` ascending in place and returns their median; for an even count, the
    /// mean of the two middle values rounded down.
    /// @dev Insertion sort: O(n^2) but cheapest for the short lists of an oracle round (n <= 31).
    /// With f < n/2 arbitrary values, the median lies within the range of the other values.
    /// @param values The values; must not be empty.
    /// @return median The median.
    function sortAndMedian(uint256[] memory values) internal pure returns (uint256 median) {
        uint256 n = values.length;
        for (uint256 i = 1; i < n; ++i) {
            uint256 current = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > current) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = current;
        }
        uint256 mid = n / 2;
        if (n % 2 == 1) return values[mid];
        // Average without overflow: a + (b - a) / 2 with a <= b.
        uint256 low = values[mid - 1];
        return low + (values[mid] - low) / 2;
    }
}
