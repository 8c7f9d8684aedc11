// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title SeriesSet
/// @notice The set of series an account holds positions or resting orders in: up to 8 non-zero uint32 ids packed in
/// one storage word, so reading every series of an account costs one storage read.
library SeriesSet {
    /// @notice Most ids one set holds.
    uint256 internal constant CAPACITY = 8;

    /// @notice `set` with `id` added in the first free lane; `ok` is false when the set is full.
    /// @dev `id` must be non-zero and not yet in `set` (the clearinghouse adds a series when a position
    /// opens or an order rests).
    function add(uint256 set, uint32 id) internal pure returns (uint256 updated, bool ok) {
        for (uint256 i = 0; i < CAPACITY; ++i) {
            if (uint32(set >> (32 * i)) == 0) return (set | (uint256(id) << (32 * i)), true);
        }
        return (set, false);
    }

    /// @notice True when `id` is in `set`.
    function contains(uint256 set, uint32 id) internal pure returns (bool) {
        for (uint256 i = 0; i < CAPACITY; ++i) {
            if (uint32(set >> (32 * i)) == id) return true;
        }
        return false;
    }

    /// @notice `set` without `id` (unchanged when absent).
    function remove(uint256 set, uint32 id) internal pure returns (uint256) {
        for (uint256 i = 0; i < CAPACITY; ++i) {
            if (uint32(set >> (32 * i)) == id) return set & ~(uint256(type(uint32).max) << (32 * i));
        }
        return set;
    }

    /// @notice The ids in `set`, in lane order.
    function toArray(uint256 set) internal pure returns (uint32[] memory ids) {
        uint256 count = 0;
        uint32[CAPACITY] memory lanes;
        for (uint256 i = 0; i < CAPACITY; ++i) {
            uint32 id = uint32(set >> (32 * i));
            if (id != 0) lanes[count++] = id;
        }
        ids = new uint32[](count);
        for (uint256 i = 0; i < count; ++i) ids[i] = lanes[i];
    }
}
