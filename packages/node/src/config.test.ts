import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadNodeConfig, parseNodeConfig } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "dseq-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("node config", () => {
  it("fills documented defaults and resolves paths against the config file", () => {
    const file = join(dir, "node.json");
    writeFileSync(file, JSON.stringify({ dataDir: "data", chain: { genesis: "../genesis.json" } }));
    const cfg = loadNodeConfig(file);
    expect(cfg.dataDir).toBe(join(dir, "data"));
    expect(cfg.chain.genesis).toBe(join(dir, "..", "genesis.json"));
    expect(cfg.rpc.http).toEqual({ enabled: true, host: "127.0.0.1", port: 8545 });
    expect(cfg.consensus.emptyBlocks).toBe(true);
    expect(cfg.consensus.continuousBuild).toBe(true);
    expect(cfg.mode).toBe("validator");
    expect(cfg.p2p.listen).toEqual(["/ip4/127.0.0.1/tcp/0"]);
  });

  it("reads TOML", () => {
    const file = join(dir, "node.toml");
    writeFileSync(
      file,
      'dataDir = "/tmp/x"\nmode = "follower"\n[chain]\ngenesis = "/g.json"\n[rpc.http]\nport = 9000\n',
    );
    const cfg = loadNodeConfig(file);
    expect(cfg.mode).toBe("follower");
    expect(cfg.rpc.http.port).toBe(9000);
    expect(cfg.rpc.ws.port).toBe(8546);
  });

  it("names every bad field", () => {
    let err: unknown;
    try {
      parseNodeConfig({
        dataDir: "",
        chain: {},
        rpc: { http: { port: 70000 }, ws: {} },
        consensus: { timeoutProposeMs: "fast" },
        bogus: 1,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain("dataDir:");
    expect(msg).toContain("chain.genesis:");
    expect(msg).toContain("rpc.http.port:");
    expect(msg).toContain("consensus.timeoutProposeMs:");
    expect(msg).toContain("unknown field bogus");
  });

  it("clear errors for a missing file and for bad syntax", () => {
    expect(() => loadNodeConfig(join(dir, "nope.json"))).toThrow(/cannot read config file .*ENOENT/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ dataDir: ");
    expect(() => loadNodeConfig(bad)).toThrow(/is not valid JSON/);
    const badToml = join(dir, "bad.toml");
    writeFileSync(badToml, "dataDir = ");
    expect(() => loadNodeConfig(badToml)).toThrow(/is not valid TOML/);
  });
});

describe("batches section", () => {
  const l1 = {
    endpoints: ["http://127.0.0.1:8545"],
    chainId: 31337,
    lockingPool: `0x${"11".repeat(20)}`,
    depositBridge: `0x${"22".repeat(20)}`,
    batchInbox: `0x${"33".repeat(20)}`,
    startBlock: 1,
  };
  const base = { dataDir: "/d", chain: { genesis: "/g.json" } };
  it("fills the submit defaults and resolves the L1 keystore path", () => {
    const cfg = parseNodeConfig({ ...base, l1, batches: { submit: { l1Keystore: "l1.json" } } }, "/etc/dseq");
    expect(cfg.batches?.submit).toMatchObject({
      l1Keystore: "/etc/dseq/l1.json",
      kind: "blobs",
      confirmations: 6,
      maxBlocks: 150,
      takeoverMs: 30_000,
    });
    expect(cfg.batches?.signDeadlineMs).toBe(30_000);
    expect(parseNodeConfig({ ...base, l1, batches: {} }).batches?.submit).toBeUndefined();
  });
  it("names the field that is wrong", () => {
    expect(() => parseNodeConfig({ ...base, batches: {} })).toThrow(/batches: needs the l1 section/);
    expect(() =>
      parseNodeConfig({ ...base, l1: { ...l1, endpoints: ["ws://127.0.0.1:8546"] }, batches: {} }),
    ).toThrow(/batches: needs an http\(s\):\/\/ endpoint/);
    expect(() => parseNodeConfig({ ...base, mode: "follower", l1, batches: {} })).toThrow(
      /a follower neither signs nor posts/,
    );
    expect(() =>
      parseNodeConfig({ ...base, l1, batches: { submit: { l1Keystore: "k", kind: "both" } } }),
    ).toThrow(/batches\.submit\.kind:/);
    expect(() => parseNodeConfig({ ...base, l1, batches: { submit: {} } })).toThrow(
      /batches\.submit\.l1Keystore:/,
    );
    expect(() => parseNodeConfig({ ...base, l1, batches: { l1PrivateKey: "0x01" } })).toThrow(
      /batches: unknown field l1PrivateKey/,
    );
  });
});

describe("configs/node.example.toml", () => {
  it("is a valid config that documents every default", () => {
    const cfg = loadNodeConfig(join(import.meta.dirname, "..", "..", "..", "configs", "node.example.toml"));
    expect(cfg.rpc.http.port).toBe(8545);
    expect(cfg.admin.port).toBe(9545);
    expect(cfg.txpool.journal).toBe(true);
  });
});
