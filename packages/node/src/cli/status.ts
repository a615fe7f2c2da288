import type { NodeStatus } from "../admin.ts";

/** `dseq status`: the dashboard's headline facts as text, one `key  value` line each. */
export function formatStatus(s: NodeStatus): string {
  const rows: [string, string][] = [
    ["node", `${s.address} (${s.mode}${s.signer ? ", signing" : ""}, chain ${s.chainId})`],
    ["sync", `${s.sync.state}: ${s.sync.reason}`],
    [
      "head",
      `#${s.head.number} ${s.head.hash} (${(s.lastBlockAgeMs / 1000).toFixed(1)} s ago), best peer #${s.highestPeerHead}`,
    ],
    [
      "progress",
      `${s.sync.blocksPerSecond.toFixed(2)} blocks/s, ${s.sync.behind} behind${s.sync.etaSeconds === undefined ? "" : `, ~${s.sync.etaSeconds} s left`}`,
    ],
    ["probes", `live ${s.probes.live ? "yes" : "NO"}, ready ${s.probes.ready ? "yes" : "NO"}`],
    [
      "consensus",
      `height ${s.consensus.height ?? "-"} round ${s.consensus.round ?? "-"}${s.consensus.halted ? " HALTED" : ""}`,
    ],
    ["peers", String(s.peers)],
    ["sequencer", `${s.currentSequencer}${s.isSequencer ? " (this node)" : ""}`],
    [
      "next span",
      s.nextSequencer ? `${s.nextSequencer.address} from #${s.nextSequencer.startHeight}` : "unknown",
    ],
    [
      "span",
      `#${s.span.index} (${s.span.startHeight}-${s.span.endHeight}), miss streak ${s.reelection.missStreak}/${s.reelection.reelectAfterMisses}`,
    ],
    ["validators", `${s.validators.length}, total power ${s.totalPower}`],
    [
      "own",
      `${s.own.proposed} proposed, ${s.own.missedProposals} missed, ${s.own.votesIncluded} votes included, ${s.own.votesAbsent} absent`,
    ],
    ["rewards", `${s.own.earned} wei earned, ${s.own.accrued} since the last checkpoint`],
    ["pool", `${s.pool.size} transactions`],
    [
      "disk",
      s.disk.freeBytes === undefined ? "unknown" : `${(s.disk.freeBytes / 2 ** 30).toFixed(1)} GiB free`,
    ],
    ["l1", s.l1.configured ? "configured" : "not configured"],
    ["batches", s.batches.configured ? "configured" : "not configured"],
    ["tss", s.tss.configured ? "configured" : "not configured"],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}

/** Fetches `/api/status` from an admin URL (`http://host:port`). */
export async function fetchStatus(adminUrl: string, timeoutMs = 5_000): Promise<NodeStatus> {
  const res = await fetch(`${adminUrl.replace(/\/$/, "")}/api/status`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${adminUrl}/api/status answered HTTP ${res.status}`);
  return (await res.json()) as NodeStatus;
}
