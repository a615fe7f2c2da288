// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title dseq deposit bridge (L1 -> L2 gas token)
/// @notice Locks tokens here; the L2 credits `to` once per nonce. Nonces start at 1 and increase by one.
/// Amounts are whole gwei: the L2 credits deposits as withdrawals, which count gwei (EIP-4895).
contract DepositBridge is Ownable, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    /// Nonce of the last deposit; 0 before the first.
    uint256 public depositNonce;

    /// Deposits are whole multiples of this (1 gwei, in the token's 18-decimal units).
    uint256 public constant AMOUNT_UNIT = 1 gwei;

    event DepositInitiated(uint256 indexed nonce, address indexed from, address indexed to, uint256 amount);

    error InvalidAddress();
    error ZeroAmount();
    error NotWholeGwei(uint256 amount);

    constructor(address owner_, IERC20 token_) Ownable(owner_) {
        token = token_;
    }

    function deposit(address to, uint256 amount) external whenNotPaused nonReentrant returns (uint256 nonce) {
        if (to == address(0)) revert InvalidAddress();
        if (amount == 0) revert ZeroAmount();
        if (amount % AMOUNT_UNIT != 0) revert NotWholeGwei(amount);
        nonce = ++depositNonce;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit DepositInitiated(nonce, msg.sender, to, amount);
    }

    function pause() external onlyOwner {
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }
}
