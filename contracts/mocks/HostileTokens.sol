// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Charges `feeBps` of every transfer (burned), like fee-on-transfer tokens.
contract FeeOnTransferToken is ERC20 {
    uint256 public feeBps = 100;

    constructor() ERC20("Fee Token", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @notice Balances are shares times an index that grows by `rebaseBps` on every transfer, like rebasing tokens.
contract RebasingToken {
    string public constant name = "Rebasing Token";
    string public constant symbol = "REB";
    uint8 public constant decimals = 18;
    uint256 public indexX18 = 1e18;
    uint256 public rebaseBps = 1;
    mapping(address => uint256) public sharesOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        sharesOf[to] += (amount * 1e18) / indexX18;
    }

    function balanceOf(address account) external view returns (uint256) {
        return (sharesOf[account] * indexX18) / 1e18;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        allowance[from][msg.sender] -= amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) private {
        uint256 shares = (amount * 1e18) / indexX18;
        sharesOf[from] -= shares;
        sharesOf[to] += shares;
        indexX18 += (indexX18 * rebaseBps) / 10_000;
    }
}

/// @notice Returns nothing from transfer and transferFrom, like USDT; with `silentFailure` it also moves nothing.
contract NoReturnToken {
    string public constant name = "No Return Token";
    string public constant symbol = "NRT";
    uint8 public constant decimals = 6;
    bool public silentFailure;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function setSilentFailure(bool on) external {
        silentFailure = on;
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }

    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external {
        allowance[from][msg.sender] -= amount;
        _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) private {
        if (silentFailure) return;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @notice Returns false instead of reverting when `failing` is on, moving nothing.
contract FalseReturnToken is ERC20 {
    bool public failing;

    constructor() ERC20("False Token", "FLS") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFailing(bool on) external {
        failing = on;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, amount);
    }
}

/// @notice Calls `target` with `callbackData` inside every transfer (like ERC-777 hooks) and bubbles a failure.
contract CallbackToken is ERC20 {
    address public callbackTarget;
    bytes public callbackData;

    constructor() ERC20("Callback Token", "CBT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function setCallback(address target_, bytes calldata data) external {
        callbackTarget = target_;
        callbackData = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (callbackTarget != address(0) && from != address(0) && to != address(0)) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory reason) = callbackTarget.call(callbackData);
            if (!ok) {
                // solhint-disable-next-line no-inline-assembly
                assembly {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
        super._update(from, to, value);
    }
}
