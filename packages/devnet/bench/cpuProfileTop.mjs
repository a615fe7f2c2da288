// Top self and inclusive time of a V8 .cpuprofile (ADR 0164):
//   node packages/devnet/bench/cpuProfileTop.mjs <file.cpuprofile> [top] [callers-of-regex] [depth]
import { readFileSync } from "node:fs";

const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const top = Number(process.argv[3] ?? 25);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const d = dt[i] ?? 0;
  self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + d);
  total += d;
}
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const short = (u) =>
  u.replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(/.*\/work\/main\//, "");
const key = (n) =>
  `${n.callFrame.functionName || "(anon)"} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const pkg = (n) => {
  const u = n.callFrame.url;
  if (!u) return n.callFrame.functionName;
  const m = u.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  const w = u.match(/\/work\/main\/(packages\/[^/]+)/);
  if (w) return w[1];
  return u.startsWith("node:") ? u : "other";
};
const selfF = new Map(),
  selfP = new Map(),
  incl = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  const k = key(n);
  selfF.set(k, (selfF.get(k) ?? 0) + t);
  selfP.set(pkg(n), (selfP.get(pkg(n)) ?? 0) + t);
  const seen = new Set();
  let cur = id;
  while (cur !== undefined) {
    const kk = key(byId.get(cur));
    if (!seen.has(kk)) {
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + t);
    }
    cur = parent.get(cur);
  }
}
const pr = (m, title) => {
  console.log(`== ${title}`);
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, t]) => {
      console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
    });
};
console.log(`total ${(total / 1e6).toFixed(1)} s sampled`);
pr(selfP, "self by package");
pr(selfF, "self by function");
pr(incl, "inclusive");
// callers of functions matching argv[4]
if (process.argv[4]) {
  const re = new RegExp(process.argv[4]);
  const callers = new Map();
  for (const [id, t] of self) {
    const chain = [];
    let cur = id;
    while (cur !== undefined) {
      chain.push(byId.get(cur));
      cur = parent.get(cur);
    }
    const i = chain.findIndex((n) => re.test(key(n)));
    if (i < 0) continue;
    const path = chain
      .slice(i, i + Number(process.argv[5] ?? 6))
      .map(key)
      .join(" <- ");
    callers.set(path, (callers.get(path) ?? 0) + t);
  }
  pr(callers, `callers of ${process.argv[4]}`);
}
