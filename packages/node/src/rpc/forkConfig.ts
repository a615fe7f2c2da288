/**
 * `ChainReader.forkConfig` (eth_config, EIP-7910) from the chain's @ethereumjs Common: the
 * fork in force at the head, the next and the last timestamp-scheduled fork; fork ids as
 * EIP-2124/6122 compute them, and the precompiles and system contracts of each fork.
 */
import type { Hex } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import type { Address, ChainReader, ForkConfigData } from "@dseq/rpc";

type Common = Chain["common"];

const pre = (n: number): Address => `0x${n.toString(16).padStart(40, "0")}` as Address;

/** EIP-7910 precompile names, each with the fork that adds it. */
const PRECOMPILES: [string, number, string][] = [
  ["ECREC", 1, "chainstart"],
  ["SHA256", 2, "chainstart"],
  ["RIPEMD160", 3, "chainstart"],
  ["ID", 4, "chainstart"],
  ["MODEXP", 5, "byzantium"],
  ["BN254_ADD", 6, "byzantium"],
  ["BN254_MUL", 7, "byzantium"],
  ["BN254_PAIRING", 8, "byzantium"],
  ["BLAKE2F", 9, "istanbul"],
  ["KZG_POINT_EVALUATION", 0x0a, "cancun"],
  ["BLS12_G1ADD", 0x0b, "prague"],
  ["BLS12_G1MSM", 0x0c, "prague"],
  ["BLS12_G2ADD", 0x0d, "prague"],
  ["BLS12_G2MSM", 0x0e, "prague"],
  ["BLS12_PAIRING_CHECK", 0x0f, "prague"],
  ["BLS12_MAP_FP_TO_G1", 0x10, "prague"],
  ["BLS12_MAP_FP2_TO_G2", 0x11, "prague"],
  ["P256VERIFY", 0x100, "osaka"],
];

/** System contracts the fork's block rules call (EIP-4788, EIP-2935, EIP-7002, EIP-7251; EIP-6110's deposit contract). */
function systemContracts(c: Common): Record<string, Address> {
  const out: Record<string, Address> = {};
  if (c.gteHardfork("cancun")) out.BEACON_ROOTS_ADDRESS = "0x000f3df6d732807ef1319fb7b8bb8522d0beac02";
  if (c.gteHardfork("prague")) {
    out.CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS = "0x0000bbddc7ce488642fb579f8b00f3a590007251";
    const deposit = (c as unknown as { _chainParams?: { depositContractAddress?: string } })._chainParams
      ?.depositContractAddress;
    out.DEPOSIT_CONTRACT_ADDRESS = (deposit ?? pre(0)).toLowerCase() as Address;
    out.HISTORY_STORAGE_ADDRESS = "0x0000f90827f1c53a10cb7a02335b175320002935";
    out.WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS = "0x00000961ef480eb55e80d19ad83579a64c007002";
  }
  return out;
}

function forkData(base: Common, name: string, genesisHash: Uint8Array): ForkConfigData {
  const c = base.copy();
  c.setHardfork(name);
  const precompiles: Record<string, Address> = {};
  for (const [n, addr, hf] of PRECOMPILES) if (c.gteHardfork(hf)) precompiles[n] = pre(addr);
  const out: ForkConfigData = {
    activationTime: Number(c.hardforkTimestamp(name) ?? 0n),
    chainId: c.chainId(),
    forkId: c.forkHash(name, genesisHash) as Hex,
    precompiles,
    systemContracts: systemContracts(c),
  };
  if (c.isActivatedEIP(4844)) {
    // getBlobGasSchedule, not the Cancun params: BPO forks carry their own schedule.
    const perBlob = 131_072n;
    const s = c.getBlobGasSchedule();
    out.blobSchedule = {
      target: Number(s.targetBlobGasPerBlock / perBlob),
      max: Number(s.maxBlobGasPerBlock / perBlob),
      baseFeeUpdateFraction: s.blobGasPriceUpdateFraction,
    };
  }
  return out;
}

export function forkConfigOf(chain: Chain): NonNullable<ChainReader["forkConfig"]> {
  return async () => {
    const genesis = await chain.getBlockByNumber(0n);
    if (genesis === undefined) throw new Error("genesis block not found");
    const genesisHash = genesis.hash();
    const head = chain.head().header;
    const common = chain.common;
    const current = common.getHardforkBy({ blockNumber: head.number, timestamp: head.timestamp });
    // Later forks scheduled by time, the last of those sharing a timestamp standing for it.
    const byTime = new Map<bigint, string>();
    for (const hf of common.hardforks()) {
      const t = hf.timestamp === undefined || hf.timestamp === null ? undefined : BigInt(hf.timestamp);
      if (t !== undefined && t > head.timestamp) byTime.set(t, hf.name);
    }
    const later = [...byTime].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, n]) => n);
    const out: Awaited<ReturnType<NonNullable<ChainReader["forkConfig"]>>> = {
      current: forkData(common, current, genesisHash),
    };
    const next = later[0];
    const last = later[later.length - 1];
    if (next !== undefined) out.next = forkData(common, next, genesisHash);
    if (last !== undefined) out.last = forkData(common, last, genesisHash);
    return out;
  };
}
