/**
 * A contract whose gas depends on the block it runs in (a price accumulator touched once per
 * timestamp, `block.number`/`block.timestamp` branches), plus a loop that never ends. Used by
 * the next-block estimate tests (ADR 0131), the EVM timeout tests and `pnpm bench rpc`.
 */
export const TIME_SENSITIVE_SOURCE = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract TimeSensitive {
    uint256 public lastTs;
    uint256 public acc;
    uint256 public price = 7;
    mapping(uint256 => uint256) public obs;

    // Uniswap-v2 style: the first swap in a new block updates the accumulator (new slots).
    function swap() external {
        if (block.timestamp != lastTs) {
            acc += price * (block.timestamp - lastTs);
            lastTs = block.timestamp;
            obs[block.timestamp] = acc;
            obs[block.timestamp + 1] = acc + 1;
        }
        price += 1;
    }

    // Odd blocks write three fresh slots.
    function byNumber() external {
        if (block.number % 2 == 1) {
            for (uint256 i = 0; i < 3; i++) obs[block.number * 10 + i] = i + 1;
        }
        price += 1;
    }

    // Timestamps 2 and 3 (mod 4) write two fresh slots.
    function byTime() external {
        if (block.timestamp % 4 >= 2) {
            obs[block.timestamp * 10] = 1;
            obs[block.timestamp * 10 + 1] = 2;
        }
        price += 1;
    }

    function env() external view returns (uint256 number, uint256 time, address coinbase, uint256 baseFee) {
        return (block.number, block.timestamp, block.coinbase, block.basefee);
    }

    function spin() external pure {
        assembly {
            for {} 1 {} {}
        }
    }
}
`;
