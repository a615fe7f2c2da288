// The dseq dashboard: one ES module, no framework, no CDN. It renders /api/status and keeps it
// live over server-sent events (/api/events), reconnecting by itself.

const $ = (id) => document.getElementById(id);
const short = (a) =>
  typeof a === "string" && a.length > 14 ? `${a.slice(0, 8)}…${a.slice(-6)}` : String(a ?? "");
const notConfigured = (el) => {
  el.textContent = "not configured";
  el.className = "na";
};

function setText(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  if (cls !== undefined) el.className = cls;
}

function drawChart(svg, values, label) {
  const w = 600;
  const h = 160;
  const pad = 24;
  const pts = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const ns = "http://www.w3.org/2000/svg";
  const max = Math.max(1, ...pts);
  for (const f of [0, 0.5, 1]) {
    const y = h - pad - f * (h - 2 * pad);
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", String(pad));
    line.setAttribute("x2", String(w));
    line.setAttribute("y1", String(y));
    line.setAttribute("y2", String(y));
    svg.appendChild(line);
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", "2");
    t.setAttribute("y", String(y + 4));
    t.textContent = String(Math.round(f * max));
    svg.appendChild(t);
  }
  if (pts.length === 0) return;
  const step = pts.length > 1 ? (w - pad) / (pts.length - 1) : 0;
  const coords = pts.map((v, i) => `${pad + i * step},${h - pad - (v / max) * (h - 2 * pad)}`);
  const pl = document.createElementNS(ns, "polyline");
  pl.setAttribute("points", coords.join(" "));
  svg.appendChild(pl);
  const last = document.createElementNS(ns, "text");
  last.setAttribute("x", String(w - 150));
  last.setAttribute("y", "14");
  last.textContent = `${label} last ${Math.round(pts.at(-1))} ms`;
  svg.appendChild(last);
}

function render(s) {
  setText("mode", `${s.mode}${s.signer ? " (signing)" : ""} · chain ${s.chainId}`);
  setText("address", s.address);
  setText("head", `#${s.head.number}`);
  setText("head-age", `${(s.lastBlockAgeMs / 1000).toFixed(1)} s ago · ${short(s.head.hash)}`);
  setText("sync", s.sync.state, `big state-${s.sync.state}`);
  const rate = s.sync.blocksPerSecond.toFixed(2);
  setText(
    "sync-reason",
    `${s.sync.reason}; ${s.sync.behind} behind, ${rate} blocks/s${s.sync.etaSeconds ? `, ~${s.sync.etaSeconds} s left` : ""}`,
  );
  setText("peers", String(s.peers));
  setText("peer-head", `best peer head #${s.highestPeerHead}`);
  setText("round", `h${s.consensus.height ?? "-"} r${s.consensus.round ?? "-"}`);
  setText(
    "halted",
    s.consensus.halted ? "HALTED" : "running",
    s.consensus.halted ? "sub state-stuck" : "sub",
  );
  setText("pool", String(s.pool.size));
  setText("probes", `${s.probes.live ? "live" : "NOT LIVE"} · ${s.probes.ready ? "ready" : "not ready"}`);
  setText(
    "disk",
    s.disk.freeBytes === undefined
      ? "disk: unknown"
      : `disk free ${(s.disk.freeBytes / 2 ** 30).toFixed(1)} GiB`,
  );
  setText("seq", `${s.currentSequencer}${s.isSequencer ? " (this node)" : ""}`);
  setText(
    "next-seq",
    s.nextSequencer ? `${s.nextSequencer.address} from #${s.nextSequencer.startHeight}` : "unknown",
  );
  setText("span", `#${s.span.index}: blocks ${s.span.startHeight}–${s.span.endHeight}`);
  const r0 = s.blocks.filter((b) => b.round > 0).length;
  setText(
    "misses",
    `streak ${s.reelection.missStreak}/${s.reelection.reelectAfterMisses}; ${r0} of the last ${s.blocks.length} blocks after round 0`,
  );
  setText("own-proposed", String(s.own.proposed));
  setText("own-missed", String(s.own.missedProposals));
  setText(
    "own-votes",
    s.signer ? `${s.own.votesIncluded} included, ${s.own.votesAbsent} absent` : "not a signer",
  );
  setText("own-earned", `${s.own.earned} wei (${s.own.accrued} since the last checkpoint)`);
  if (!s.rewardsClaimable.configured) notConfigured($("own-claimable"));
  if (s.l1.configured) {
    const lag = s.l1.lagBlocks === undefined ? "-" : `${s.l1.lagBlocks} behind`;
    setText(
      "l1",
      `${s.l1.lastBlockSeen ?? "-"} / ${lag} (${s.l1.state}, endpoint ${s.l1.endpoint})`,
      s.l1.state === "ok" ? "state-synced" : "state-stalled",
    );
  }
  for (const k of ["l1", "batches", "tss"]) if (!s[k].configured) notConfigured($(k));
  setText("total-power", `total power ${s.totalPower}`);
  const tbody = $("validators");
  tbody.replaceChildren(
    ...[...s.validators]
      .sort((a, b) => a.id - b.id)
      .map((v) => {
        const tr = document.createElement("tr");
        if (v.address.toLowerCase() === s.address.toLowerCase()) tr.className = "self";
        const share = s.totalPower > 0 ? `${((100 * v.power) / s.totalPower).toFixed(1)}%` : "-";
        for (const cell of [v.id, v.address, v.power, share, v.earned]) {
          const td = document.createElement("td");
          td.textContent = String(cell);
          tr.appendChild(td);
        }
        return tr;
      }),
  );
  drawChart(
    $("chart-interval"),
    s.blocks.map((b) => b.intervalMs),
    "interval",
  );
  drawChart(
    $("chart-latency"),
    s.blocks.map((b) => b.latencyMs),
    "latency",
  );
  setText("updated", `updated ${new Date(s.at).toISOString()} · ${s.blocks.length} blocks charted`);
}

function connect() {
  const es = new EventSource("/api/events");
  es.onopen = () => setText("conn", "live", "pill live");
  es.onmessage = (ev) => render(JSON.parse(ev.data));
  es.onerror = () => setText("conn", "reconnecting", "pill");
}

fetch("/api/status")
  .then((r) => r.json())
  .then(render)
  .catch(() => undefined);
connect();
