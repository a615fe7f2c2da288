import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createCapturingLogger, createLogger } from "./logger.ts";

describe("logger", () => {
  it("writes JSON lines with message, level, context and child bindings", () => {
    const { logger, lines } = createCapturingLogger("debug");
    const log = logger.child({ module: "txpool" });
    log.info("tx admitted", { hash: "0xab", gas: 21000, value: 10n ** 18n });
    log.trace("not shown");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "tx admitted",
      module: "txpool",
      hash: "0xab",
      gas: 21000,
    });
    expect(typeof lines[0]?.time).toBe("string");
  });

  it("never writes secrets, even when passed by mistake", () => {
    const { logger, lines } = createCapturingLogger();
    logger.warn("oops", { privateKey: "0xdeadbeef", keystore: { password: "hunter2" }, share: "0x01" });
    const raw = JSON.stringify(lines);
    expect(raw).not.toContain("deadbeef");
    expect(raw).not.toContain("hunter2");
    expect(lines[0]?.privateKey).toBe("[redacted]");
  });

  it("serializes errors with code and cause", () => {
    const { logger, lines } = createCapturingLogger();
    const err = Object.assign(new Error("outer", { cause: new Error("inner") }), { code: "E_X" });
    logger.error("failed", { err });
    expect(lines[0]?.err).toMatchObject({ message: "outer", code: "E_X", cause: { message: "inner" } });
  });

  it("pretty format writes human lines, not JSON", () => {
    let out = "";
    const destination = new Writable({
      write(c: Buffer, _e, cb) {
        out += c.toString();
        cb();
      },
    });
    const log = createLogger({ format: "pretty", destination });
    log.info("hello pretty", { height: 5 });
    expect(out).toContain("hello pretty");
    expect(() => JSON.parse(out)).toThrow();
  });
});
