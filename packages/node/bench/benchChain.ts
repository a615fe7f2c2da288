/** Shared constants of the rpc benchmark: deterministic sender keys and the view contract. */
import { bytesToHex, type Hex } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { privateKeyToAccount } from "viem/accounts";

export const BENCH_CHAIN_ID = 902;
/** Senders whose nonce-0.. transactions the send_raw_tx run submits. */
export const SENDERS = 100;
/** Senders that fill the block the get_block run reads. */
export const FILLERS = 100;
/** Runtime code: returns storage slot 0 (PUSH0 SLOAD PUSH0 MSTORE PUSH1 32 PUSH0 RETURN). */
export const VIEW_CODE: Hex = "0x5f545f5260205ff3";
export const VIEW_ADDRESS: Hex = "0x00000000000000000000000000000000000c0de0";

export function benchKey(i: number): Hex {
  return bytesToHex(keccak_256(new TextEncoder().encode(`dseq rpc bench key ${i}`)));
}

export function benchAccount(i: number): ReturnType<typeof privateKeyToAccount> {
  return privateKeyToAccount(benchKey(i));
}

/** A minimal ERC-20 (balances, transfer, Transfer event) for eth_call_per_s and trace_tx_per_s. */
export const ERC20_SOURCE = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Token {
    mapping(address => uint256) public balanceOf;
    event Transfer(address indexed from, address indexed to, uint256 value);
    constructor() { balanceOf[msg.sender] = 1e24; }
    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}`;
