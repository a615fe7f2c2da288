import { createHash } from "node:crypto";
import { Address, bigIntToAddressBytes, bytesToHex, concatBytes } from "@ethereumjs/util";
import type { RunTxResult, VM } from "@ethereumjs/vm";

/**
 * EIP-7685 execution-layer requests after a block's transactions: deposits (EIP-6110, from the
 * deposit contract's logs), withdrawal requests (EIP-7002) and consolidations (EIP-7251) by
 * system call. Mirrors @ethereumjs/vm's (unexported) `accumulateRequests`, which our builder
 * cannot reach because it runs transactions itself.
 */
const DEPOSIT_TOPIC = "0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5";

export const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(b).digest());

export type ElRequest = { type: number; data: Uint8Array };

function parseDepositLog(data: Uint8Array): Uint8Array {
  if (data.length !== 576) throw new Error("invalid deposit log: unsupported data layout");
  const slice = (offsetWord: number, size: number): Uint8Array => {
    const off = Number(BigInt(bytesToHex(data.subarray(offsetWord, offsetWord + 32))));
    return data.subarray(off + 32, off + 32 + size);
  };
  // ABI layout: five dynamic bytes fields (pubkey, withdrawal_credentials, amount, signature, index)
  return concatBytes(slice(0, 48), slice(32, 32), slice(64, 8), slice(96, 96), slice(128, 8));
}

async function systemCall(vm: VM, to: bigint): Promise<Uint8Array | undefined> {
  const address = new Address(bigIntToAddressBytes(to));
  const system = new Address(bigIntToAddressBytes(vm.common.param("systemAddress")));
  if ((await vm.stateManager.getAccount(address)) === undefined) return undefined;
  const systemAccount = await vm.stateManager.getAccount(system);
  const res = await vm.evm.runCall({
    caller: system,
    gasLimit: vm.common.param("systemCallGasLimit"),
    to: address,
  });
  if (systemAccount === undefined) await vm.stateManager.deleteAccount(system);
  else await vm.stateManager.putAccount(system, systemAccount);
  return res.execResult.returnValue;
}

export async function accumulateRequests(vm: VM, results: RunTxResult[]): Promise<ElRequest[]> {
  const requests: ElRequest[] = [];
  const common = vm.common;
  if (common.isActivatedEIP(6110)) {
    const chainParams = (common as unknown as { _chainParams: { depositContractAddress?: string } })
      ._chainParams;
    const deposit = (
      chainParams.depositContractAddress ?? "0x00000000219ab540356cBB839Cbe05303d7705Fa"
    ).toLowerCase();
    const parts: Uint8Array[] = [];
    for (const r of results) {
      for (const [address, topics, data] of r.receipt.logs) {
        if (
          topics.length > 0 &&
          bytesToHex(topics[0] as Uint8Array) === DEPOSIT_TOPIC &&
          bytesToHex(address) === deposit
        ) {
          parts.push(parseDepositLog(data));
        }
      }
    }
    requests.push({ type: 0, data: concatBytes(...parts) });
  }
  if (common.isActivatedEIP(7002)) {
    requests.push({
      type: 1,
      data: (await systemCall(vm, common.param("withdrawalRequestPredeployAddress"))) ?? new Uint8Array(0),
    });
  }
  if (common.isActivatedEIP(7251)) {
    requests.push({
      type: 2,
      data: (await systemCall(vm, common.param("consolidationRequestPredeployAddress"))) ?? new Uint8Array(0),
    });
  }
  return requests;
}

/** EIP-7685 requests hash: sha256 over sha256(type ++ data) of each non-empty request. */
export function requestsHash(requests: ElRequest[]): Uint8Array {
  const hashes: Uint8Array[] = [];
  for (const r of requests) {
    if (r.data.length === 0) continue;
    hashes.push(sha256(concatBytes(Uint8Array.of(r.type), r.data)));
  }
  return sha256(concatBytes(...hashes));
}
