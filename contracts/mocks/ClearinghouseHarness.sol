// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {Clearinghouse} from "../core/Clearinghouse.sol";
import {IIndexOracle} from "../interfaces/IIndexOracle.sol";
import {DirectFillLogic, IDirectFills} from "./DirectFillLogic.sol";

/// @title ClearinghouseHarness
/// @notice Test-only: the clearinghouse plus direct fills by a DIRECT_FILLER_ROLE, so unit tests can
/// reach every margin rule of one fill without building a book. Never deployed outside tests.
contract ClearinghouseHarness is Clearinghouse, IDirectFills {
    /// @notice Role allowed to book direct fills.
    bytes32 public constant DIRECT_FILLER_ROLE = keccak256("DIRECT_FILLER_ROLE");

    /// @param collateral_ The collateral token.
    /// @param oracle_ The index oracle.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    constructor(
        IERC20Metadata collateral_,
        IIndexOracle oracle_,
        address admin
    ) Clearinghouse(collateral_, oracle_, admin) {}

    /// @inheritdoc IDirectFills
    function applyTrade(Fill calldata fill) external nonReentrant onlyRole(DIRECT_FILLER_ROLE) {
        DirectFillLogic.applyTrade(_s, oracle, fill, paused());
    }
}
