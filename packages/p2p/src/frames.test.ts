import { describe, expect, it } from "vitest";
import { encodeFrame, encodeVarint, FrameDecoder, FrameError } from "./frames.ts";

describe("frames", () => {
  it("varints match LEB128", () => {
    expect([...encodeVarint(0)]).toEqual([0]);
    expect([...encodeVarint(127)]).toEqual([127]);
    expect([...encodeVarint(128)]).toEqual([0x80, 0x01]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
    expect(() => encodeVarint(-1)).toThrow();
  });

  it("reassembles frames split at every byte boundary", () => {
    const payloads = [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(9)];
    const wire = Buffer.concat(payloads.map(encodeFrame));
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new FrameDecoder(1_000);
      const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(out.map((f) => Buffer.from(f).toString("hex"))).toEqual(
        payloads.map((p) => Buffer.from(p).toString("hex")),
      );
      d.end();
    }
  });

  it("refuses an oversized frame on its length prefix, before the body arrives", () => {
    const d = new FrameDecoder(1_000);
    const err = (() => {
      try {
        d.push(encodeVarint(1_001));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).code).toBe("P2P_FRAME_TOO_LARGE");
  });

  it("refuses endless and non-minimal varints, and truncated frames", () => {
    expect(() => new FrameDecoder(1 << 30).push(new Uint8Array(6).fill(0xff))).toThrow(/too long/);
    expect(() => new FrameDecoder(1_000).push(Uint8Array.of(0x81, 0x00))).toThrow(/non-minimal/);
    const d = new FrameDecoder(1_000);
    d.push(Uint8Array.of(5, 1, 2));
    expect(() => d.end()).toThrow(/ended inside a frame/);
  });
});

describe("frame byte budget", () => {
  it("refuses the prefix that would take the exchange past its budget, before its body", () => {
    // two frames of 10 bytes (11 with prefix) fit 22 bytes; the third prefix does not
    const d = new FrameDecoder(1_000, 22);
    expect(
      d.push(Buffer.concat([encodeFrame(new Uint8Array(10)), encodeFrame(new Uint8Array(10))])).length,
    ).toBe(2);
    expect(d.consumed).toBe(22);
    let err: unknown;
    try {
      d.push(encodeVarint(1));
    } catch (e) {
      err = e;
    }
    expect((err as FrameError).code).toBe("P2P_RESPONSE_TOO_LARGE");
  });
});
