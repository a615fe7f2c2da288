import { createEthereumCrypto } from "@dseq/crypto";
import { type Common, createCustomCommon, Mainnet } from "@ethereumjs/common";
import { paramsTx } from "@ethereumjs/tx";

/**
 * The `Common` admission decodes with: Prague rules, the L2 chain id, and the native
 * secp256k1 / wasm keccak `customCrypto`.
 *
 * Every @ethereumjs/tx 10.1.3 constructor copies the `Common` and calls
 * `updateParams(paramsTx)` on the copy, which deep-copies the parameter tables and rebuilds
 * the parameter cache: about an eighth of admission time, for a result that never changes.
 * We merge `paramsTx` once here and make `updateParams` a no-op on this instance (copies
 * inherit own properties), so transactions read the same parameters without the rebuild.
 * The pool never passes other `params`, so nothing is lost.
 */
export function createPoolCommon(chainId: bigint): Common {
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, {
    hardfork: "prague",
    customCrypto: createEthereumCrypto(),
  });
  common.updateParams(paramsTx);
  Object.defineProperty(common, "updateParams", { value: () => undefined, writable: true, enumerable: true });
  return common;
}
