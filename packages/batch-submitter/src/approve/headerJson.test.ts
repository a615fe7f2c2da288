import { describe, expect, it } from "vitest";
import { BatchDataKind, type BatchHeader } from "../codec/header.ts";
import { headerFromJson, headerToJson } from "./headerJson.ts";

const h: BatchHeader = {
  chainId: 901n,
  batchIndex: 3n,
  prevBatchHash: `0x${"ab".repeat(32)}`,
  firstBlock: 11n,
  lastBlock: 20n,
  lastBlockHash: `0x${"01".repeat(32)}`,
  stateRoot: `0x${"02".repeat(32)}`,
  dataKind: BatchDataKind.calldata,
  dataHash: `0x${"03".repeat(32)}`,
};

describe("batch header JSON", () => {
  it("round-trips through JSON text", () => {
    expect(headerFromJson(JSON.parse(JSON.stringify(headerToJson(h))))).toEqual(h);
  });
  it("refuses missing, extra and malformed fields", () => {
    const j = headerToJson(h);
    expect(headerFromJson({ ...j, extra: 1 })).toBeUndefined();
    const { stateRoot: _s, ...missing } = j;
    expect(headerFromJson(missing)).toBeUndefined();
    expect(headerFromJson({ ...j, batchIndex: "-1" })).toBeUndefined();
    expect(headerFromJson({ ...j, batchIndex: 3 })).toBeUndefined();
    expect(headerFromJson({ ...j, firstBlock: "011" })).toBeUndefined();
    expect(headerFromJson({ ...j, stateRoot: "0x12" })).toBeUndefined();
    expect(headerFromJson({ ...j, dataKind: 2 })).toBeUndefined();
    expect(headerFromJson(null)).toBeUndefined();
    expect(headerFromJson([j])).toBeUndefined();
  });
});
