// `pnpm bench <suite>`: runs packages/*/bench/<suite>.bench.ts, prints a table of its
// metrics and writes bench/results/<suite>.json as {suite, node, cpus, when, metrics}.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

type Suite = {
  default: () => Promise<Record<string, number>>;
  description?: string;
};

const root = resolve(import.meta.dirname, "..");

function findSuites(): Map<string, string> {
  const out = new Map<string, string>();
  const pkgs = join(root, "packages");
  for (const pkg of readdirSync(pkgs)) {
    const dir = join(pkgs, pkg, "bench");
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const m = /^(.+)\.bench\.ts$/.exec(f);
      if (m?.[1]) out.set(m[1], join(dir, f));
    }
  }
  return out;
}

async function main(): Promise<void> {
  const suites = findSuites();
  const name = process.argv[2];
  if (!name || !suites.has(name)) {
    console.error(`usage: pnpm bench <suite>\nsuites: ${[...suites.keys()].sort().join(", ") || "(none)"}`);
    process.exit(name ? 2 : 1);
  }
  const file = suites.get(name) as string;
  const mod = (await import(pathToFileURL(file).href)) as Suite;
  console.log(`bench ${name}${mod.description ? `: ${mod.description}` : ""}`);
  const metrics = await mod.default();
  const result = {
    suite: name,
    node: process.version,
    cpus: cpus().length,
    when: new Date().toISOString(),
    metrics,
  };
  const width = Math.max(...Object.keys(metrics).map((k) => k.length), 6);
  console.log(`\n${"metric".padEnd(width)}  value`);
  console.log(`${"-".repeat(width)}  ${"-".repeat(14)}`);
  for (const [k, v] of Object.entries(metrics)) {
    const shown = Number.isInteger(v) ? String(v) : v.toFixed(3);
    console.log(`${k.padEnd(width)}  ${shown}`);
  }
  const outDir = join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${name}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${out.slice(root.length + 1)} (node ${process.version}, ${result.cpus} cpus)`);
  // Suites may leave handles (sockets, workers) behind; the numbers are written.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
