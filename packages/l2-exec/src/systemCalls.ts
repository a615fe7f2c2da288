import type { EVMInterface } from "@ethereumjs/evm";
import {
  Account,
  Address,
  bigIntToAddressBytes,
  bigIntToBytes,
  createAddressFromString,
  setLengthLeft,
} from "@ethereumjs/util";
import type { VM } from "@ethereumjs/vm";

/**
 * Block-level state changes of the Ethereum rules that @ethereumjs/vm applies inside
 * `runBlock` but does not export; our builder calls `runTx` itself, so it applies them here,
 * in the same order and with the same semantics.
 */
const BEACON_ROOTS = createAddressFromString("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02");

/** EIP-4788: parent beacon block root into the ring buffer (no-op without the contract). */
export async function storeParentBeaconRoot(vm: VM, root: Uint8Array, timestamp: bigint): Promise<void> {
  if ((await vm.stateManager.getCode(BEACON_ROOTS)).length === 0) return;
  const len = BigInt(vm.common.param("historicalRootsLength"));
  const idx = timestamp % len;
  await vm.stateManager.putStorage(
    BEACON_ROOTS,
    setLengthLeft(bigIntToBytes(idx), 32),
    bigIntToBytes(timestamp),
  );
  await vm.stateManager.putStorage(BEACON_ROOTS, setLengthLeft(bigIntToBytes(idx + len), 32), root);
  await vm.evm.journal.cleanup();
}

/** EIP-2935: parent hash into the history contract (no-op without the contract). */
export async function storeParentBlockHash(vm: VM, number: bigint, parentHash: Uint8Array): Promise<void> {
  const history = new Address(bigIntToAddressBytes(vm.common.param("historyStorageAddress")));
  if ((await vm.stateManager.getCode(history)).length === 0) return;
  const window = vm.common.param("historyServeWindow");
  await vm.stateManager.putStorage(
    history,
    setLengthLeft(bigIntToBytes((number - 1n) % window), 32),
    parentHash,
  );
  await vm.evm.journal.cleanup();
}

/** Credits `amount` wei (withdrawals, PoW rewards), creating the account when needed. */
export async function creditAccount(evm: EVMInterface, address: Address, amount: bigint): Promise<void> {
  const account = (await evm.stateManager.getAccount(address)) ?? new Account();
  account.balance += amount;
  await evm.journal.putAccount(address, account);
}
