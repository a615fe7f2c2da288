import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Devnet, DSEQ_BIN, type StartDevnetOptions, startDevnet } from "../devnet.ts";
import { DevnetError, DevnetErrorCode } from "../errors.ts";
import { defaultGenerateOptions, nodeNames, readNetwork } from "../network.ts";
import { type CreateTestbedOptions, createTestbed, type Testbed } from "./driver.ts";
import type { LinkShape } from "./plan.ts";

export const TESTBED_FILE = "testbed.json";
export const NS_LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), "nsLauncher.mjs");
/** Debian's libfaketime (`apt-get install faketime`). */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

export type TestbedDevnetOptions = Omit<StartDevnetOptions, "l1"> & {
  /** Every link's shape from the start (default unshaped). */
  shape?: LinkShape;
  /** Wall-clock offsets by node, libfaketime syntax: `{v2: "+1", v3: "-1"}` (seconds). */
  clockSkew?: Record<string, string>;
  testbed?: CreateTestbedOptions;
};

export type TestbedDevnet = {
  devnet: Devnet;
  testbed: Testbed;
  /** A node's clock offset from its next (re)start on; undefined = the true clock. */
  setClockSkew(name: string, skew: string | undefined): void;
  /** Stops the nodes, then removes namespaces and bridge. Idempotent. */
  stop(): Promise<void>;
};

/**
 * Rewrites a 127.0.0.1 devnet config for the testbed: the node listens on its namespace's
 * address, dials each peer through the relay (its only path), and tells the relay its p2p port.
 */
export function netnsConfigPatch(
  tb: Pick<Testbed, "ipOf" | "dialAddress" | "setP2pPort">,
  nameOfPeer: (peerId: string) => string | undefined,
  name: string,
  cfg: Record<string, unknown>,
): Record<string, unknown> {
  const ip = tb.ipOf(name);
  const p2p = cfg.p2p as { listen: string[]; bootstrap: string[] };
  const rpc = cfg.rpc as { http: Record<string, unknown>; ws: Record<string, unknown> };
  const admin = cfg.admin as Record<string, unknown>;
  const bootstrap = p2p.bootstrap.map((ma) => {
    const m = /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/(\w+)$/.exec(ma);
    const peer = m ? nameOfPeer(m[1] as string) : undefined;
    if (!m || !peer)
      throw new DevnetError(DevnetErrorCode.TestbedConfig, `bootstrap address ${ma} names no testbed node`);
    const via = tb.dialAddress(name, peer);
    return `/ip4/${via.host}/tcp/${via.port}/p2p/${m[1]}`;
  });
  const listen = p2p.listen.map((ma) => {
    const m = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)$/.exec(ma);
    if (!m)
      throw new DevnetError(
        DevnetErrorCode.TestbedConfig,
        `listen address ${ma} is not /ip4/127.0.0.1/tcp/<port>`,
      );
    tb.setP2pPort(name, Number(m[1]));
    return `/ip4/${ip}/tcp/${m[1]}`;
  });
  return {
    ...cfg,
    p2p: { ...p2p, listen, bootstrap },
    rpc: { http: { ...rpc.http, host: ip }, ws: { ...rpc.ws, host: ip } },
    admin: { ...admin, host: ip },
  };
}

/**
 * A devnet whose nodes each run in their own network namespace, reaching each other only
 * through the link relay (the WAN testbed): `testbed.shapeAll({delayMs: 50, ...})`,
 * `partition`, `heal` while it runs. Needs root and iproute2 (see canUseNetns). No dev L1.
 */
export async function startTestbedDevnet(opts: TestbedDevnetOptions): Promise<TestbedDevnet> {
  if ((opts as StartDevnetOptions).l1) {
    throw new DevnetError(DevnetErrorCode.TestbedConfig, "the testbed runs without a dev L1 (--no-l1)");
  }
  const dataDir = resolve(opts.dataDir);
  const existing = opts.fresh ? undefined : readNetwork(dataDir);
  const names = existing
    ? existing.nodes.map((n) => n.name)
    : nodeNames(
        opts.validators ?? defaultGenerateOptions.validators,
        opts.followers ?? defaultGenerateOptions.followers,
      ).map((n) => n.name);
  const testbed = await createTestbed(names, opts.testbed);
  const skew: Record<string, string> = { ...opts.clockSkew };
  const realBin = opts.dseqBin ?? process.env.DSEQ_DEVNET_BIN ?? DSEQ_BIN;
  if (Object.keys(skew).length > 0 && !existsSync(LIBFAKETIME)) {
    await testbed.destroy();
    throw new DevnetError(
      DevnetErrorCode.TestbedFaketime,
      `clock skew needs ${LIBFAKETIME} (apt-get install faketime)`,
    );
  }
  const writeTestbedFile = (): void => {
    const nodes: Record<string, { netns: string; ip: string }> = {};
    for (const n of testbed.plan.nodes) nodes[n.name] = { netns: n.netns, ip: n.ip };
    writeFileSync(
      join(dataDir, TESTBED_FILE),
      `${JSON.stringify({ nodes, dseqBin: realBin, libfaketime: LIBFAKETIME, clockSkew: skew }, null, 2)}\n`,
    );
  };
  let peers: Map<string, string> | undefined;
  try {
    if (opts.shape) testbed.shapeAll(opts.shape);
    const devnet = await startDevnet({
      ...opts,
      dseqBin: NS_LAUNCHER,
      patchConfig: (name, cfg) => {
        if (!peers) {
          // generateNetwork has run: network.json names every peer id
          const net = readNetwork(dataDir);
          peers = new Map((net?.nodes ?? []).map((n) => [n.peerId, n.name]));
          writeTestbedFile();
        }
        const out = netnsConfigPatch(testbed, (id) => peers?.get(id), name, cfg);
        return opts.patchConfig ? opts.patchConfig(name, out) : out;
      },
    });
    let stopped = false;
    return {
      devnet,
      testbed,
      setClockSkew(name, s) {
        testbed.ipOf(name);
        if (s === undefined) delete skew[name];
        else skew[name] = s;
        writeTestbedFile();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await devnet.stop().finally(() => testbed.destroy());
      },
    };
  } catch (err) {
    await testbed.destroy();
    throw err;
  }
}
