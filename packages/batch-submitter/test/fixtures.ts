// Realistic L2 blocks for codec tests and the bench: signed EIP-1559 (and some legacy EIP-155)
// transfers or ERC-20 transfers from a set of funded senders, seeded so runs are comparable.
import { seededRandom } from "@dseq/common";
import { encodeFunctionData, type Hex, hexToBytes, keccak256, parseAbi, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { CommittedBlock } from "../src/index.ts";

export type FixtureKind = "transfer" | "erc20";

const erc20 = parseAbi(["function transfer(address to, uint256 amount) returns (bool)"]);
export const TOKEN: Hex = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

export type FixtureOptions = {
  kind: FixtureKind;
  chainId: bigint;
  blocks: number;
  txsPerBlock: number;
  firstBlock?: bigint;
  seed?: number;
  /** Share of legacy EIP-155 transactions (0..1). */
  legacyShare?: number;
  senders?: number;
};

export async function makeBlocks(o: FixtureOptions): Promise<CommittedBlock[]> {
  const rand = seededRandom(o.seed ?? 1);
  const randHex = (bytes: number): Hex =>
    `0x${Array.from({ length: bytes }, () =>
      Math.floor(rand() * 256)
        .toString(16)
        .padStart(2, "0"),
    ).join("")}`;
  const senders = Array.from({ length: o.senders ?? 32 }, (_, i) =>
    privateKeyToAccount(keccak256(toHex(`sender ${i} ${o.seed ?? 1}`))),
  );
  const nonces = senders.map(() => 0);
  const recipients = Array.from({ length: 200 }, () => randHex(20));
  const coinbases = [randHex(20), randHex(20), randHex(20), randHex(20)];
  const first = o.firstBlock ?? 1n;
  let parentHash = keccak256(toHex(`parent ${first}`));
  let timestamp = 1_700_000_000n;
  const out: CommittedBlock[] = [];
  for (let b = 0; b < o.blocks; b++) {
    const transactions: Uint8Array[] = [];
    for (let t = 0; t < o.txsPerBlock; t++) {
      const si = Math.floor(rand() * senders.length);
      const to = recipients[Math.floor(rand() * recipients.length)]!;
      const amount = BigInt(Math.floor(rand() * 1e6)) * 10n ** 12n;
      const legacy = rand() < (o.legacyShare ?? 0);
      const base = {
        chainId: Number(o.chainId),
        nonce: nonces[si]!++,
        ...(o.kind === "transfer"
          ? { to, value: amount, gas: 21_000n }
          : {
              to: TOKEN,
              value: 0n,
              gas: 60_000n,
              data: encodeFunctionData({ abi: erc20, functionName: "transfer", args: [to, amount] }),
            }),
      };
      const signed = legacy
        ? await senders[si]!.signTransaction({ ...base, type: "legacy", gasPrice: 2_000_000_000n })
        : await senders[si]!.signTransaction({
            ...base,
            type: "eip1559",
            maxFeePerGas: 2_000_000_000n,
            maxPriorityFeePerGas: 1_000_000n,
          });
      transactions.push(hexToBytes(signed));
    }
    const number = first + BigInt(b);
    const hash = keccak256(toHex(`block ${number} ${o.seed ?? 1}`));
    out.push({
      number,
      hash,
      parentHash,
      timestamp,
      coinbase: coinbases[Math.floor(b / 50) % coinbases.length]!,
      stateRoot: keccak256(toHex(`state ${number} ${o.seed ?? 1}`)),
      extraData: new Uint8Array(0),
      transactions,
    });
    parentHash = hash;
    timestamp += 2n;
  }
  return out;
}
