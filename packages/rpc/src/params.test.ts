import { describe, expect, it } from "vitest";
import {
  blockRef,
  callRequest,
  data,
  logFilter,
  ParamError,
  quantity,
  stateOverrides,
  storageKey,
  uint64,
} from "./params.ts";

describe("params: geth's hexutil and block-reference rules", () => {
  it("quantities reject missing prefix, empty, leading zeros, odd chars and overflow", () => {
    expect(quantity("0x0")).toBe(0n);
    expect(quantity("0xff")).toBe(255n);
    for (const bad of ["ff", "0x", "0x00", "0x0g", "", 12]) expect(() => quantity(bad)).toThrow(ParamError);
    expect(() => quantity(`0x1${"0".repeat(64)}`)).toThrow(/> 256 bits/);
    expect(() => uint64(`0x1${"0".repeat(16)}`)).toThrow(/> 64 bits/);
  });

  it("data must be even-length hex and comes back lower-case", () => {
    expect(data("0xABcd")).toBe("0xabcd");
    expect(() => data("0xabc")).toThrow(/odd length/);
  });

  it("block refs: tags, numbers, hashes and EIP-1898 objects", () => {
    expect(blockRef("safe")).toEqual({ kind: "tag", tag: "safe" });
    expect(blockRef("0x10")).toEqual({ kind: "number", number: 16n });
    const h = `0x${"ab".repeat(32)}`;
    expect(blockRef(h)).toEqual({ kind: "hash", hash: h, requireCanonical: false });
    expect(blockRef({ blockHash: h, requireCanonical: true })).toEqual({
      kind: "hash",
      hash: h,
      requireCanonical: true,
    });
    expect(blockRef({ blockNumber: "latest" })).toEqual({ kind: "tag", tag: "latest" });
    expect(() => blockRef({ blockHash: h, blockNumber: "0x1" })).toThrow(/both/);
    expect(() => blockRef("0x8000000000000000")).toThrow(/larger than int64/);
    expect(() => blockRef("pending2")).toThrow(ParamError);
  });

  it("storage keys follow geth's decodeHash (short keys padded, >32 bytes refused)", () => {
    expect(storageKey("0x1")).toEqual({ slot: `0x${"0".repeat(63)}1`, bytes: 1 });
    expect(() => storageKey("0xzz")).toThrow(/invalid hex in storage key/);
    expect(() => storageKey(`0x${"00".repeat(33)}`)).toThrow(/too long/);
  });

  it("call requests: input/data agreement and fee field conflicts", () => {
    expect(callRequest({ data: "0x01" }).input).toBe("0x01");
    expect(callRequest({ to: null }).to).toBeNull();
    expect(() => callRequest({ gasPrice: "0x1", maxFeePerGas: "0x2" })).toThrow(/both gasPrice/);
    expect(() => callRequest({ maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x2" })).toThrow(/maxFeePerGas/);
  });

  it("state overrides refuse state together with stateDiff", () => {
    const a = `0x${"11".repeat(20)}` as const;
    const slot = `0x${"00".repeat(32)}`;
    expect(stateOverrides({ [a]: { balance: "0x10", stateDiff: { [slot]: slot } } })[a]?.balance).toBe(16n);
    expect(() => stateOverrides({ [a]: { state: {}, stateDiff: {} } })).toThrow(
      /both 'state' and 'stateDiff'/,
    );
  });

  it("log filters: single address or list, topic wildcards, at most 4 positions", () => {
    const t = `0x${"aa".repeat(32)}`;
    const f = logFilter({ address: `0x${"AB".repeat(20)}`, topics: [null, t, [t, t], []] });
    expect(f.addresses).toEqual([`0x${"ab".repeat(20)}`]);
    expect(f.topics).toEqual([null, [t], [t, t], null]);
    expect(() => logFilter({ topics: [null, null, null, null, null] })).toThrow(/too many topics/);
    expect(() => logFilter({ blockHash: t, fromBlock: "0x1" })).toThrow(/cannot specify both/);
  });
});
