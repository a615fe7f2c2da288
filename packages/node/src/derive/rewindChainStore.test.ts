import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createLogger } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { afterEach, describe, expect, it } from "vitest";
import { l2Builder, openChain } from "../../test/helpers/deriveFixture.ts";
import { DeriveErrorCode } from "./errors.ts";
import { recoverChainDirs, rewindChainStore } from "./rewindChainStore.ts";

const logger = createLogger({ level: "fatal" });
let dir: string;
let open: Chain[] = [];
afterEach(async () => {
  for (const c of open) await c.close();
  open = [];
  rmSync(dir, { recursive: true, force: true });
});

const ctx = () => ({
  dataDir: dir,
  logger,
  open: async (d: string) => {
    const c = await openChain(d);
    open.push(c);
    return c;
  },
});

async function chainOf(blocks: number) {
  dir = mkdtempSync(join(tmpdir(), "dseq-rewind-"));
  const chain = await openChain(join(dir, "chain"));
  open.push(chain);
  const b = l2Builder(chain);
  for (let n = 0; n < blocks; n++) await b.next();
  return b;
}

describe("rewindChainStore", () => {
  it("drops the blocks above the target and their transactions; the rewound store takes new blocks", async () => {
    const b = await chainOf(10);
    const gone = b.blocks[6]!;
    const goneTx = (await b.chain.getBlockByNumber(7))!.transactions[0]!.hash();
    const to = { number: 4n, hash: b.blocks[3]!.hash };
    const rewound = await rewindChainStore(ctx(), b.chain, to);
    expect(bytesToHex(rewound.head().hash())).toBe(to.hash);
    expect(bytesToHex(rewound.finalized().hash())).toBe(to.hash);
    expect(bytesToHex(rewound.safe().hash())).toBe(to.hash);
    for (let n = 1; n <= 4; n++)
      expect(bytesToHex((await rewound.getBlockByNumber(n))!.hash())).toBe(b.blocks[n - 1]!.hash);
    expect(await rewound.getBlockByNumber(5)).toBeUndefined();
    expect(await rewound.getBlockByHash(gone.hash)).toBeUndefined();
    expect(await rewound.getTransaction(goneTx)).toBeUndefined();
    expect(["chain.rewind", "chain.new", "chain.old"].filter((d) => existsSync(join(dir, d)))).toEqual([]);
    // The store on disk is the rewound one, and a new block 5 goes on block 4.
    const parent = rewound.head();
    const built = await rewound.buildBlock({
      parent,
      txs: [],
      timestamp: parent.header.timestamp + 2n,
      coinbase: `0x${"00".repeat(20)}`,
    });
    await rewound.commit(built.block);
    expect(rewound.head().header.number).toBe(5n);
    expect(bytesToHex(built.block.header.parentHash)).toBe(to.hash);
    expect(bytesToHex(built.block.hash())).not.toBe(b.blocks[4]!.hash);
  });

  it("is a no-op on a store already at the target, and refuses a target the store does not hold", async () => {
    const b = await chainOf(3);
    const head = { number: 3n, hash: b.blocks[2]!.hash };
    expect(await rewindChainStore(ctx(), b.chain, head)).toBe(b.chain);
    const wrong = { number: 2n, hash: b.blocks[2]!.hash };
    const err = await rewindChainStore(ctx(), b.chain, wrong).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: DeriveErrorCode.BadStore, details: { field: "rewindTarget" } });
    expect(b.chain.head().header.number).toBe(3n);
  });
});

describe("recoverChainDirs", () => {
  const mark = (name: string, text: string) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, "MARK"), text);
  };
  const state = () =>
    ["chain", "chain.rewind", "chain.new", "chain.old"]
      .filter((d) => existsSync(join(dir, d)))
      .map((d) => `${d}:${readFileSync(join(dir, d, "MARK"), "utf8")}`);
  const cases: [string, [string, string][], string[]][] = [
    [
      "an incomplete copy is removed",
      [
        ["chain", "old"],
        ["chain.rewind", "half"],
      ],
      ["chain:old"],
    ],
    [
      "a complete copy replaces the store",
      [
        ["chain", "old"],
        ["chain.new", "new"],
      ],
      ["chain:new"],
    ],
    [
      "a swap cut in the middle is finished",
      [
        ["chain.old", "old"],
        ["chain.new", "new"],
      ],
      ["chain:new"],
    ],
    [
      "a replaced store left behind is removed",
      [
        ["chain", "new"],
        ["chain.old", "old"],
      ],
      ["chain:new"],
    ],
    ["nothing to do", [["chain", "x"]], ["chain:x"]],
  ];
  for (const [what, before, after] of cases) {
    it(what, () => {
      dir = mkdtempSync(join(tmpdir(), "dseq-rewind-dirs-"));
      for (const [d, t] of before) mark(d, t);
      recoverChainDirs(dir);
      expect(state()).toEqual(after);
      recoverChainDirs(dir);
      expect(state()).toEqual(after);
    });
  }
});
