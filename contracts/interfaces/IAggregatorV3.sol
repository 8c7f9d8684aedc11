// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAggregatorV3
/// @notice The read interface of Chainlink price feeds (AggregatorV3Interface), so outside
/// integrations can read an index feed with code they already have.
interface IAggregatorV3 {
    /// @notice Decimals of `answer`.
    function decimals() external view returns (uint8);

    /// @notice Human-readable name of the feed.
    function description() external view returns (string memory);

    /// @notice Version of the adapter.
    function version() external view returns (uint256);

    /// @notice A historical round.
    /// @param roundId The round id.
    /// @return roundId_ The round id.
    /// @return answer The price with `decimals()` decimals.
    /// @return startedAt The round's observation time.
    /// @return updatedAt The round's observation time.
    /// @return answeredInRound The round id.
    function getRoundData(
        uint80 roundId
    )
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The latest round.
    /// @return roundId The round id.
    /// @return answer The price with `decimals()` decimals.
    /// @return startedAt The round's observation time.
    /// @return updatedAt The round's observation time.
    /// @return answeredInRound The round id.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
