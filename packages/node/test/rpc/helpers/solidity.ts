/** Compiles Solidity in-process with solc-js (the npm `solc` package; offline). */
import { createRequire } from "node:module";
import type { Hex } from "@dseq/common";

type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
};

export function compileSolidity(source: string, contract: string): { abi: unknown[]; bytecode: Hex } {
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { "Test.sol": { content: source } },
    settings: {
      evmVersion: "prague",
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts["Test.sol"]?.[contract];
  if (c === undefined) throw new Error(`contract ${contract} not in output`);
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

export const COUNTER_SOURCE = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Counter {
    uint256 public count;
    event Incremented(address indexed by, uint256 newCount);

    constructor(uint256 start) { count = start; }

    function increment() external {
        count += 1;
        emit Incremented(msg.sender, count);
    }

    function fail() external pure {
        revert("counter says no");
    }
}
`;
