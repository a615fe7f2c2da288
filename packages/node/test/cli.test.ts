import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const bin = resolve(import.meta.dirname, "..", "bin", "dseq.mjs");
const root = mkdtempSync(join(tmpdir(), "dseq-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dseq(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, DSEQ_KEY_PASSWORD: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("dseq CLI (real processes)", () => {
  it("init creates an encrypted key, prints address/keystore/public key, and refuses to overwrite", () => {
    const dataDir = join(root, "a");
    const first = dseq(["init", "--datadir", dataDir, "--light-kdf", "--json"], {
      DSEQ_KEY_PASSWORD: "s3cret",
    });
    expect(first.code).toBe(0);
    const info = JSON.parse(first.out) as { address: string; keystore: string; publicKey: string };
    expect(info.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(info.publicKey).toMatch(/^[0-9a-f]{128}$/);
    expect(info.keystore).toBe(join(dataDir, "keystore", "key.json"));
    expect(statSync(info.keystore).mode & 0o777).toBe(0o600);
    const before = readFileSync(info.keystore, "utf8");
    expect(JSON.parse(before).crypto.kdf).toBe("scrypt");

    const again = dseq(["init", "--datadir", dataDir, "--light-kdf"], { DSEQ_KEY_PASSWORD: "other" });
    expect(again.code).toBe(1);
    expect(again.err).toContain("refusing to overwrite");
    expect(readFileSync(info.keystore, "utf8")).toBe(before);

    const show = dseq(["key", "show", "--datadir", dataDir, "--json"], { DSEQ_KEY_PASSWORD: "s3cret" });
    expect(show.code).toBe(0);
    expect(JSON.parse(show.out)).toMatchObject({ address: info.address, publicKey: info.publicKey });
  });

  it("a wrong password, a missing password and a missing key each give a clear error and exit 1", () => {
    const dataDir = join(root, "b");
    expect(dseq(["init", "--datadir", dataDir, "--light-kdf"], { DSEQ_KEY_PASSWORD: "right" }).code).toBe(0);
    const wrong = dseq(["key", "show", "--datadir", dataDir], { DSEQ_KEY_PASSWORD: "wrong" });
    expect(wrong).toMatchObject({ code: 1 });
    expect(wrong.err).toContain("could not decrypt key with given password");
    const none = dseq(["key", "show", "--datadir", dataDir]);
    expect(none.code).toBe(1);
    expect(none.err).toContain("no keystore password");
    const missing = dseq(["key", "show", "--datadir", join(root, "nothing")], { DSEQ_KEY_PASSWORD: "x" });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("run `dseq init` first");
  });

  it("import and export round-trip a key through a password file; export never prints the key", () => {
    const dataDir = join(root, "c");
    const keyFile = join(root, "priv.hex");
    const pwFile = join(root, "pw.txt");
    const priv = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    writeFileSync(keyFile, `0x${priv}\n`);
    writeFileSync(pwFile, "from-file\n");
    const imp = dseq([
      "key",
      "import",
      "--datadir",
      dataDir,
      "--private-key-file",
      keyFile,
      "--password-file",
      pwFile,
      "--light-kdf",
      "--json",
    ]);
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.out).address).toBe("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
    const out = join(root, "exported.hex");
    const exp = dseq(["key", "export", "--datadir", dataDir, "--out", out, "--password-file", pwFile]);
    expect(exp.code).toBe(0);
    expect(exp.out).not.toContain(priv);
    expect(readFileSync(out, "utf8").trim()).toBe(priv);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = dseq(["key", "export", "--datadir", dataDir, "--out", out, "--password-file", pwFile]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("already exists");
  });

  it("--help lists every command, derive included, and derive's usage errors exit 2 with usage", () => {
    const help = dseq(["--help"]);
    expect(help.code).toBe(0);
    for (const c of [
      "init",
      "key show",
      "key import",
      "key export",
      "start",
      "derive",
      "status",
      "devnet-init",
    ])
      expect(help.out).toContain(`  dseq ${c} `);
    expect(help.out).toContain("dseq derive --config FILE [--beacon URL]");
    const derive = dseq(["derive", "--help"]);
    expect(derive.code).toBe(0);
    expect(derive.out).toContain("dseq derive --config FILE [--beacon URL]");
    const noConfig = dseq(["derive"]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.err).toContain("derive needs --config FILE");
    expect(noConfig.err).toContain("dseq derive --config FILE");
    const badBeacon = dseq(["derive", "--config", "x.toml", "--beacon", "ftp://x"]);
    expect(badBeacon.code).toBe(2);
    expect(badBeacon.err).toContain("--beacon must be an http(s):// URL");
  });

  it("bad arguments exit 2 with usage", () => {
    const r = dseq(["init", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--bogus'");
    expect(r.err).toContain("Usage:");
    expect(dseq(["frobnicate"]).code).toBe(2);
    const badKey = join(root, "bad.hex");
    writeFileSync(badKey, "0x1234");
    const imp = dseq(["key", "import", "--datadir", join(root, "d"), "--private-key-file", badKey], {
      DSEQ_KEY_PASSWORD: "x",
    });
    expect(imp.code).toBe(1);
    expect(imp.err).toContain("does not hold a 32-byte hex private key");
    expect(existsSync(join(root, "d"))).toBe(false);
  });
});
