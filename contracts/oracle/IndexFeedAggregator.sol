// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IIndexOracle} from "../interfaces/IIndexOracle.sol";

/// @title IndexFeedAggregator
/// @notice A Chainlink AggregatorV3 view of one IndexOracle feed, for outside integrations.
/// @dev Answers have 18 decimals. Unlike many Chainlink feeds, `latestRoundData` reverts with
/// `IIndexOracle.FeedStale` when the feed is older than its max age, so an integration that
/// forgets to check `updatedAt` cannot use a stale price. Holds no state but its immutables.
contract IndexFeedAggregator is IAggregatorV3 {
    /// @notice The oracle read.
    IIndexOracle public immutable oracle;
    /// @notice The feed read.
    bytes32 public immutable feedId;
    /// @inheritdoc IAggregatorV3
    string public description;

    /// @notice Thrown when the feed is not registered in the oracle.
    error AggregatorFeedUnknown(bytes32 feedId);

    /// @param oracle_ The IndexOracle.
    /// @param feedId_ A feed registered in it.
    /// @param description_ e.g. "AIT / USD per 1M tokens".
    constructor(IIndexOracle oracle_, bytes32 feedId_, string memory description_) {
        if (!oracle_.feedConfig(feedId_).exists) revert AggregatorFeedUnknown(feedId_);
        oracle = oracle_;
        feedId = feedId_;
        description = description_;
    }

    /// @inheritdoc IAggregatorV3
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @inheritdoc IAggregatorV3
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc IAggregatorV3
    function getRoundData(
        uint80 roundId
    ) external view returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound) {
        IIndexOracle.Observation memory observation = oracle.observationAt(feedId, roundId);
        return (
            roundId,
            int256(uint256(observation.priceX18)),
            observation.observedAt,
            observation.observedAt,
            roundId
        );
    }

    /// @inheritdoc IAggregatorV3
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        (uint256 priceX18, uint256 observedAt) = oracle.latestPrice(feedId);
        // Round ids are below 2^40 (uint40 round counter), so the cast is safe.
        roundId = uint80(oracle.feedState(feedId).roundCount);
        return (roundId, int256(priceX18), observedAt, observedAt, roundId);
    }
}
