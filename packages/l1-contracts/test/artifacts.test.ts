import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { artifactsFile, compileContracts, EVM_VERSION, SOLC_VERSION } from "../scripts/compile.ts";
import { compilerSettings } from "../src/generated/artifacts.ts";

describe("generated artifacts", () => {
  it("are what the pinned solc-js makes from contracts/ today (run scripts/compile.ts if not)", () => {
    const fresh = compileContracts();
    expect(readFileSync(artifactsFile, "utf8") === fresh).toBe(true);
    expect(compilerSettings.solc.startsWith(`${SOLC_VERSION}+`)).toBe(true);
    expect(compilerSettings.evmVersion).toBe(EVM_VERSION);
  }, 120_000);
});
