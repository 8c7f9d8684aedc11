// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title TickBitmap
/// @notice The set of active price levels of one side of a book: 2^24 ticks in a three-level
/// bitmap (a root word, 256 middle words, 65,536 leaf words), so the best level at or beyond any
/// tick is found with at most six storage reads and no scanning.
library TickBitmap {
    /// @notice Largest tick the bitmap holds.
    uint256 internal constant MAX_TICK = 2 ** 24 - 1;

    /// @dev Bit i of `root` is set when middle word i is non-zero; bit j of `middle[i]` when leaf
    /// word (i * 256 + j) is non-zero; bit k of `leaves[w]` when tick (w * 256 + k) is active.
    struct Bitmap {
        uint256 root;
        mapping(uint256 index => uint256) middle;
        mapping(uint256 index => uint256) leaves;
    }

    /// @notice Marks `tick` active (no-op when it already is). `tick` must be at most MAX_TICK.
    function set(Bitmap storage bitmap, uint256 tick) internal {
        uint256 leafIndex = tick >> 8;
        uint256 leaf = bitmap.leaves[leafIndex];
        bitmap.leaves[leafIndex] = leaf | (1 << (tick & 255));
        if (leaf != 0) return;
        uint256 middleIndex = leafIndex >> 8;
        uint256 middle = bitmap.middle[middleIndex];
        bitmap.middle[middleIndex] = middle | (1 << (leafIndex & 255));
        if (middle == 0) bitmap.root |= 1 << middleIndex;
    }

    /// @notice Marks `tick` inactive.
    function clear(Bitmap storage bitmap, uint256 tick) internal {
        uint256 leafIndex = tick >> 8;
        uint256 leaf = bitmap.leaves[leafIndex] & ~(1 << (tick & 255));
        bitmap.leaves[leafIndex] = leaf;
        if (leaf != 0) return;
        uint256 middleIndex = leafIndex >> 8;
        uint256 middle = bitmap.middle[middleIndex] & ~(1 << (leafIndex & 255));
        bitmap.middle[middleIndex] = middle;
        if (middle == 0) bitmap.root &= ~(1 << middleIndex);
    }

    /// @notice The lowest active tick (root first: one read when the side is empty, three otherwise).
    function lowest(Bitmap storage bitmap) internal view returns (uint256, bool) {
        uint256 root = bitmap.root;
        if (root == 0) return (0, false);
        uint256 middleIndex = _lowestBit(root);
        uint256 leafIndex = (middleIndex << 8) | _lowestBit(bitmap.middle[middleIndex]);
        return ((leafIndex << 8) | _lowestBit(bitmap.leaves[leafIndex]), true);
    }

    /// @notice The highest active tick (root first, as `lowest`).
    function highest(Bitmap storage bitmap) internal view returns (uint256, bool) {
        uint256 root = bitmap.root;
        if (root == 0) return (0, false);
        uint256 middleIndex = Math.log2(root);
        uint256 leafIndex = (middleIndex << 8) | Math.log2(bitmap.middle[middleIndex]);
        return ((leafIndex << 8) | Math.log2(bitmap.leaves[leafIndex]), true);
    }

    /// @notice The lowest active tick at or above `tick`.
    function lowestAtOrAbove(Bitmap storage bitmap, uint256 tick) internal view returns (uint256, bool) {
        if (tick > MAX_TICK) return (0, false);
        uint256 leafIndex = tick >> 8;
        uint256 word = bitmap.leaves[leafIndex] & (type(uint256).max << (tick & 255));
        if (word != 0) return ((leafIndex << 8) | _lowestBit(word), true);
        uint256 middleIndex = leafIndex >> 8;
        uint256 bit = (leafIndex & 255) + 1;
        word = bit > 255 ? 0 : bitmap.middle[middleIndex] & (type(uint256).max << bit);
        if (word == 0) {
            bit = middleIndex + 1;
            word = bit > 255 ? 0 : bitmap.root & (type(uint256).max << bit);
            if (word == 0) return (0, false);
            middleIndex = _lowestBit(word);
            word = bitmap.middle[middleIndex];
        }
        leafIndex = (middleIndex << 8) | _lowestBit(word);
        return ((leafIndex << 8) | _lowestBit(bitmap.leaves[leafIndex]), true);
    }

    /// @notice The highest active tick at or below `tick`.
    function highestAtOrBelow(Bitmap storage bitmap, uint256 tick) internal view returns (uint256, bool) {
        if (tick > MAX_TICK) tick = MAX_TICK;
        uint256 leafIndex = tick >> 8;
        uint256 word = bitmap.leaves[leafIndex] & (type(uint256).max >> (255 - (tick & 255)));
        if (word != 0) return ((leafIndex << 8) | Math.log2(word), true);
        uint256 middleIndex = leafIndex >> 8;
        uint256 bit = leafIndex & 255;
        word = bit == 0 ? 0 : bitmap.middle[middleIndex] & (type(uint256).max >> (256 - bit));
        if (word == 0) {
            word = middleIndex == 0 ? 0 : bitmap.root & (type(uint256).max >> (256 - middleIndex));
            if (word == 0) return (0, false);
            middleIndex = Math.log2(word);
            word = bitmap.middle[middleIndex];
        }
        leafIndex = (middleIndex << 8) | Math.log2(word);
        return ((leafIndex << 8) | Math.log2(bitmap.leaves[leafIndex]), true);
    }

    /// @dev Index of the lowest set bit of a non-zero word.
    function _lowestBit(uint256 word) private pure returns (uint256) {
        unchecked {
            // Safe: word != 0, so word & -word isolates one set bit.
            return Math.log2(word & (0 - word));
        }
    }
}
