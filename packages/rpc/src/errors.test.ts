import { DseqError, hexToBytes } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { decodeRevertReason, executionReverted, invalidParams, RpcError } from "./errors.ts";
import { ParamError } from "./params.ts";

// Revert data from the execution-apis fixtures (eth_call/call-revert-abi-*.io).
const ERROR_DATA =
  "0x08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000a75736572206572726f72";
const PANIC_DATA = "0x4e487b710000000000000000000000000000000000000000000000000000000000000001";

describe("revert decoding (geth's abi.UnpackRevert)", () => {
  it("decodes Error(string) and Panic(uint256)", () => {
    expect(decodeRevertReason(hexToBytes(ERROR_DATA))).toBe("user error");
    expect(decodeRevertReason(hexToBytes(PANIC_DATA))).toBe("assert(false)");
    expect(decodeRevertReason(hexToBytes(`0x4e487b71${"0".repeat(62)}99`))).toBe("unknown panic code: 0x99");
  });

  it("leaves custom errors and truncated data undecoded", () => {
    expect(decodeRevertReason(hexToBytes("0x12345678"))).toBeUndefined();
    expect(decodeRevertReason(hexToBytes(ERROR_DATA.slice(0, 80)))).toBeUndefined();
  });

  it("builds code 3 with the reason in the message and the data attached", () => {
    expect(executionReverted(ERROR_DATA as `0x${string}`).toJSON()).toEqual({
      code: 3,
      message: "execution reverted: user error",
      data: ERROR_DATA,
    });
    expect(executionReverted("0x").toJSON()).toEqual({ code: 3, message: "execution reverted", data: "0x" });
  });
});

describe("RpcError and ParamError", () => {
  it("are DseqErrors with stable string codes; the JSON-RPC number stays on the wire", () => {
    const e = invalidParams("bad");
    expect(e).toBeInstanceOf(DseqError);
    expect([e.name, e.code, e.rpcCode]).toEqual(["RpcError", "RPC_INVALID_PARAMS", -32602]);
    expect(e.toJSON()).toEqual({ code: -32602, message: "bad" });
    expect(new RpcError(-1, "odd").code).toBe("RPC_OTHER");
    const p = new ParamError("not a quantity");
    expect(p).toBeInstanceOf(DseqError);
    expect([p.name, p.code, p.message]).toEqual(["ParamError", "RPC_BAD_PARAM", "not a quantity"]);
  });
});
