// Four validators in one process over an in-memory network: each height's block is decided by
// Tendermint rounds, committed with a certificate anyone can check against the validator set.
// Run: bash scripts/env.sh node packages/pos-consensus/examples/localNetwork.ts
import { bytesToHex, uintToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import {
  type Block,
  type ConsensusApp,
  ConsensusDriver,
  type ConsensusMessage,
  createKeySigner,
  createStaticValidatorSource,
  DoubleSignGuard,
  MemoryWal,
  memoryGuardStore,
  ValidatorSet,
  verifyCommitCertificate,
  verifySignature,
} from "../src/index.ts";

const CHAIN_ID = 901n;
const HEIGHTS = 5;

// Keys: deterministic here; a node loads its sequencer key from its keystore.
const signers = [1, 2, 3, 4].map((i) => createKeySigner(keccak256(uintToBytes(i, 32))));
const validators = new ValidatorSet(signers.map((s) => ({ publicKey: s.publicKey, power: 100 })));

// The application: a block is a payload and its hash. The node puts the EVM here.
const makeApp = (name: string): ConsensusApp => ({
  async propose(height) {
    const payload = new TextEncoder().encode(`block ${height} by ${name}`);
    return { hash: bytesToHex(keccak256(payload)), payload };
  },
  async validate(_height, block: Block) {
    return bytesToHex(keccak256(block.payload)) === block.hash
      ? { valid: true }
      : { valid: false, reason: "bad hash" };
  },
  async commit(height, block, certificate) {
    if (name !== "val-0") return;
    const check = verifyCommitCertificate(certificate, validators, CHAIN_ID, verifySignature);
    console.log(
      `height ${height} committed in round ${certificate.round}: "${new TextDecoder().decode(block.payload)}",`,
      `${certificate.signatures.length} precommits, certificate ${check.ok ? "valid" : "INVALID"}`,
    );
  },
});

const drivers: ConsensusDriver[] = [];
const broadcastFrom = (self: number) => (msg: ConsensusMessage) => {
  drivers.forEach((d, i) => {
    if (i !== self) setImmediate(() => d.receive(msg));
  });
};

for (const [i, signer] of signers.entries()) {
  drivers.push(
    new ConsensusDriver(
      { chainId: CHAIN_ID },
      {
        app: makeApp(`val-${i}`),
        validators: createStaticValidatorSource(validators),
        network: { broadcast: broadcastFrom(i) },
        fetcher: { fetchBlock: async () => undefined, fetchCommitted: async () => undefined },
        wal: new MemoryWal(),
        signer,
        guard: await DoubleSignGuard.open(memoryGuardStore()),
      },
    ),
  );
}

const done = new Promise<void>((resolve) => {
  drivers[0]!.events.on("consensus.committed", ({ height }) => {
    if (height === HEIGHTS) resolve();
  });
});
for (const d of drivers) await d.start(1);
await done;
for (const d of drivers) await d.stop();
console.log(`${HEIGHTS} heights decided by ${validators.size} validators`);
