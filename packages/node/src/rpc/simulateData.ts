/** eth_simulateV1's blocks (ethereumjs, in the EVM thread) as the rpc package's plain data. */
import type { SimulatedBlock } from "@dseq/l2-exec";
import type { LogData, SimulatedBlockData } from "@dseq/rpc";
import { blockToData } from "../rpcBackend.ts";

export function simulatedToData(blocks: SimulatedBlock[]): SimulatedBlockData[] {
  return blocks.map((b) => ({
    block: blockToData(b.block),
    calls: b.calls.map((c) => ({
      ...c,
      logs: c.logs.map((l) => ({ ...l, address: l.address as LogData["address"] })),
    })),
  }));
}
