// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title TokenpitTimelock
/// @notice The timelock that holds the exchange's admin roles: every parameter change is
/// scheduled, public for `minDelay` seconds, then executed. OpenZeppelin's TimelockController,
/// unchanged; named so deployments and block explorers show what it is.
contract TokenpitTimelock is TimelockController {
    /// @param minDelay Seconds between scheduling and execution.
    /// @param proposers Accounts that may schedule and cancel.
    /// @param executors Accounts that may execute (address(0) in the list: anyone).
    /// @param admin Optional account that may manage the timelock's own roles; address(0) for none.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
