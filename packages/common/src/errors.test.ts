import { describe, expect, it } from "vitest";
import { TimeoutError, withTimeout } from "./abort.ts";
import { DseqError, errorMessage, isDseqError } from "./errors.ts";

class NonceTooLow extends DseqError {
  constructor(nonce: number) {
    super("TXPOOL_NONCE_TOO_LOW", "nonce too low", { details: { nonce } });
    this.name = "NonceTooLowError";
  }
}

describe("DseqError", () => {
  it("carries a stable name, code, details and cause", () => {
    const cause = new Error("root");
    const e = new DseqError("X_FAILED", "x failed", { details: { a: 1 }, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("DseqError");
    expect(e.code).toBe("X_FAILED");
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: "DseqError",
      code: "X_FAILED",
      message: "x failed",
      details: { a: 1 },
    });
  });

  it("subclasses keep their own name; callers match on code", () => {
    const e = new NonceTooLow(3);
    expect(e.name).toBe("NonceTooLowError");
    expect(isDseqError(e, "TXPOOL_NONCE_TOO_LOW")).toBe(true);
    expect(isDseqError(e, "OTHER")).toBe(false);
    expect(isDseqError(new Error("x"))).toBe(false);
    expect(errorMessage(e)).toBe("nonce too low");
    expect(errorMessage("plain")).toBe("plain");
  });
});

describe("withTimeout", () => {
  it("passes results through and times out slow promises", async () => {
    await expect(withTimeout(Promise.resolve(5), 100)).resolves.toBe(5);
    const slow = new Promise((r) => setTimeout(r, 1000));
    const err = await withTimeout(slow, 10, "status request").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe("TIMEOUT");
    expect((err as Error).message).toBe("status request timed out after 10 ms");
  });

  it("rejects when the signal aborts", async () => {
    const ac = new AbortController();
    const p = withTimeout(new Promise(() => {}), 1000, "x", ac.signal);
    ac.abort(new Error("shutdown"));
    await expect(p).rejects.toThrow("shutdown");
  });
});
