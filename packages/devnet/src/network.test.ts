import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyInfo, loadChainSpec, loadNodeConfig, readKeyFile } from "@dseq/node";
import { sequencerKeyToPeerId } from "@dseq/p2p";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wellKnownAccounts } from "./accounts.ts";
import {
  DEVNET_PASSWORD,
  generateNetwork,
  type NetworkInfo,
  type NodePorts,
  readNetwork,
  removeDevnetDir,
  TOKEN,
  VALIDATOR_LOCK,
  writeNodeConfigs,
} from "./network.ts";
import { allocatePorts } from "./ports.ts";

describe("generateNetwork + writeNodeConfigs", () => {
  let root: string;
  let dir: string;
  let net: NetworkInfo;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "devnet-net-"));
    dir = join(root, "dn");
    net = await generateNetwork({
      dataDir: dir,
      validators: 4,
      followers: 1,
      blockTimeMs: 1000,
      chainId: 777,
      spanLength: 8,
      reelectAfterMisses: 2,
      fundedAccounts: 3,
      loadAccounts: 5,
    });
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("writes a chain spec the node accepts, with every validator staked", () => {
    const spec = loadChainSpec(join(dir, "chain.json"));
    expect(spec.chainId).toBe(777);
    expect(spec.blockTimeMs).toBe(1000);
    expect(spec.rotation).toMatchObject({ spanLength: 8, reelectAfterMisses: 2 });
    const validators = net.nodes.filter((n) => n.role === "validator");
    expect(spec.validators.map((v) => v.signer)).toEqual(validators.map((v) => v.address));
    for (const v of spec.validators) {
      expect(v.locked).toBe(VALIDATOR_LOCK);
      expect(v.status).toBe("active");
    }
    // the follower is not a validator
    const follower = net.nodes.find((n) => n.role === "follower");
    expect(spec.validators.some((v) => v.signer === follower?.address)).toBe(false);
    // funded and load accounts hold their balances
    expect(Object.keys(spec.genesis.alloc)).toHaveLength(3 + 5);
    const first = wellKnownAccounts(1)[0];
    expect(spec.genesis.alloc[first?.address as `0x${string}`]?.balance).toBe(10_000n * TOKEN);
    expect(first?.address).toBe("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"); // Hardhat/Anvil account #0
  });

  it("stores each key as a keystore the node can decrypt, matching address and peer id", async () => {
    for (const n of net.nodes) {
      const priv = await readKeyFile(join(dir, n.name, "data", "keystore", "key.json"), DEVNET_PASSWORD);
      expect(keyInfo(priv).address.toLowerCase()).toBe(n.address);
      expect(sequencerKeyToPeerId(priv).toString()).toBe(n.peerId);
    }
    const ks = JSON.parse(readFileSync(join(dir, "v1", "data", "keystore", "key.json"), "utf8"));
    expect(ks.crypto.kdf).toBe("scrypt");
    expect(ks.crypto.kdfparams.n).toBe(1 << 12); // light scrypt
    expect(readFileSync(join(dir, "password.txt"), "utf8").trim()).toBe(DEVNET_PASSWORD);
  });

  it("writes configs that parseNodeConfig accepts, with distinct free ports and full bootstrap lists", async () => {
    const list = await allocatePorts(net.nodes.length * 4);
    const ports = new Map<string, NodePorts>(
      net.nodes.map((n, i) => [
        n.name,
        { p2p: list[i * 4], http: list[i * 4 + 1], ws: list[i * 4 + 2], admin: list[i * 4 + 3] } as NodePorts,
      ]),
    );
    const layouts = writeNodeConfigs(dir, net, ports);
    const seen = new Set<number>();
    for (const l of layouts) {
      const cfg = loadNodeConfig(l.configPath);
      expect(cfg.dataDir).toBe(join(dir, l.name, "data"));
      expect(cfg.chain.genesis).toBe(join(dir, "chain.json"));
      expect(cfg.key.passwordFile).toBe(join(dir, "password.txt"));
      expect(cfg.mode).toBe(l.role);
      expect(cfg.log.format).toBe("json");
      expect(cfg.p2p.listen).toEqual([`/ip4/127.0.0.1/tcp/${l.ports.p2p}`]);
      expect(cfg.p2p.bootstrap).toHaveLength(net.nodes.length - 1);
      for (const other of layouts.filter((o) => o.name !== l.name)) {
        expect(cfg.p2p.bootstrap).toContain(`/ip4/127.0.0.1/tcp/${other.ports.p2p}/p2p/${other.peerId}`);
      }
      for (const p of [cfg.rpc.http.port, cfg.rpc.ws.port, cfg.admin.port, l.ports.p2p]) {
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
      expect(cfg.rpc.http.host).toBe("127.0.0.1");
      expect(l.rpcUrl).toBe(`http://127.0.0.1:${cfg.rpc.http.port}`);
    }
    expect(seen.size).toBe(net.nodes.length * 4);
  });

  it("reads network.json back and refuses to generate over an existing devnet", async () => {
    expect(readNetwork(dir)).toEqual(net);
    await expect(
      generateNetwork({
        dataDir: dir,
        validators: 1,
        followers: 0,
        blockTimeMs: 2000,
        chainId: 1,
        spanLength: 1,
        reelectAfterMisses: 1,
        fundedAccounts: 1,
        loadAccounts: 1,
      }),
    ).rejects.toMatchObject({ code: "DEVNET_EXISTS" });
  });

  it("refuses to delete or fill a folder that is not a devnet", async () => {
    writeFileSync(join(root, "keep.txt"), "x");
    expect(() => removeDevnetDir(root)).toThrow(/not empty and has no network.json/);
    expect(existsSync(join(root, "keep.txt"))).toBe(true);
    await expect(
      generateNetwork({
        dataDir: root,
        validators: 1,
        followers: 0,
        blockTimeMs: 2000,
        chainId: 1,
        spanLength: 1,
        reelectAfterMisses: 1,
        fundedAccounts: 1,
        loadAccounts: 1,
      }),
    ).rejects.toMatchObject({ code: "DEVNET_NOT_A_DEVNET_DIR" });
    expect(existsSync(join(root, "network.json"))).toBe(false);
  });

  it("throws a clear error on a corrupt network.json", () => {
    const bad = join(root, "bad");
    rmSync(bad, { recursive: true, force: true });
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "network.json"), "{not json");
    expect(() => readNetwork(bad)).toThrow(/not valid JSON/);
  });
});
