import { createConnection, createServer, type Server, type Socket } from "node:net";
import { DevnetError, DevnetErrorCode } from "../errors.ts";
import type { LinkShape } from "./plan.ts";

/**
 * The links of the testbed, in user space (this kernel has no netem, ADR 0161): for every
 * directed pair a -> b a TCP listener on the host side of a's veth forwards to b's p2p port.
 * Bytes a -> b wait `delay ± jitter`, queue behind the bandwidth, and with probability
 * `lossPct` per 1,448-byte segment wait one retransmission timeout more (what a lost segment
 * costs a TCP stream); order is kept. A cut direction (100 % loss) closes the connections
 * between the two nodes and refuses the ones its sender opens; bytes the other way on a
 * connection the receiver opened are dropped.
 */

const SEGMENT = 1448;
/** Linux's minimum RTO. */
const MIN_RTO_MS = 200;

export type DirectionState = { lastRelease: number };

/**
 * When a chunk of `bytes` sent at `now` reaches the other end (pure; `rand` in [0,1)). Never
 * before the previous chunk of the same direction: a TCP stream is in order.
 */
export function releaseTime(
  st: DirectionState,
  now: number,
  bytes: number,
  shape: LinkShape,
  rand: () => number,
): number {
  let t = now + shape.delayMs + (shape.jitterMs > 0 ? (rand() * 2 - 1) * shape.jitterMs : 0);
  if (shape.rateMbit > 0) {
    const txMs = (bytes * 8) / (shape.rateMbit * 1000);
    t = Math.max(t, st.lastRelease + txMs);
  }
  if (shape.lossPct > 0 && shape.lossPct < 100) {
    const segs = Math.max(1, Math.ceil(bytes / SEGMENT));
    const pLost = 1 - (1 - shape.lossPct / 100) ** segs;
    if (rand() < pLost) t += Math.max(MIN_RTO_MS, 2 * shape.delayMs);
  }
  t = Math.max(t, st.lastRelease);
  st.lastRelease = t;
  return t;
}

type Pipe = { from: string; to: string; down: Socket; up: Socket };

export type LinkRelay = {
  /** The address node `from` dials to reach `to`. */
  addressOf(from: string, to: string): { host: string; port: number };
  setShape(from: string, to: string, shape: LinkShape): void;
  shapeOf(from: string, to: string): LinkShape;
  /** Open connections, by "from>to" (tests). */
  connections(): Record<string, number>;
  close(): Promise<void>;
};

/** A node: where the relay listens for it (`hostIp`), where it is reached (`ip`, p2p port). */
export type RelayEndpoint = { name: string; hostIp: string; ip: string };

/**
 * Listens for every directed link now (ephemeral ports on the sender's host-side address);
 * `p2pPortOf` is asked at each connection, so nodes may get their ports later.
 */
export async function startLinkRelay(
  nodes: RelayEndpoint[],
  initial: LinkShape,
  p2pPortOf: (name: string) => number | undefined,
  rand: () => number = Math.random,
): Promise<LinkRelay> {
  const shapes = new Map<string, LinkShape>();
  const key = (a: string, b: string): string => `${a}>${b}`;
  const addrs = new Map<string, { host: string; port: number }>();
  const pipes = new Set<Pipe>();
  const servers: Server[] = [];
  const shapeOf = (a: string, b: string): LinkShape => {
    const s = shapes.get(key(a, b));
    if (!s) throw new DevnetError(DevnetErrorCode.TestbedUnknownNode, `no link ${a} -> ${b}`);
    return s;
  };
  const cut = (a: string, b: string): boolean => shapeOf(a, b).lossPct >= 100;

  /**
   * Moves bytes from `src` to `dst` with the shape of direction a -> b: one FIFO and one timer
   * per direction (timers of different durations may fire out of order; a stream must not).
   */
  const forward = (src: Socket, dst: Socket, a: string, b: string): void => {
    const st: DirectionState = { lastRelease: 0 };
    const queue: { at: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && (queue[0] as { at: number }).at <= now + 0.5) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!dst.destroyed) dst.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(flush, (queue[0] as { at: number }).at - now);
    };
    src.on("data", (chunk: Buffer) => {
      const shape = shapeOf(a, b);
      if (shape.lossPct >= 100) return; // black hole
      const now = performance.now();
      queue.push({ at: releaseTime(st, now, chunk.length, shape, rand), chunk });
      if (timer === undefined) flush();
    });
    src.on("close", () => {
      if (timer !== undefined) clearTimeout(timer);
    });
  };

  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      shapes.set(key(a.name, b.name), { ...initial });
      const server = createServer((down) => {
        const p2pPort = p2pPortOf(b.name);
        if (cut(a.name, b.name) || p2pPort === undefined) {
          down.destroy();
          return;
        }
        const up = createConnection({ host: b.ip, port: p2pPort });
        const pipe: Pipe = { from: a.name, to: b.name, down, up };
        pipes.add(pipe);
        const close = (): void => {
          pipes.delete(pipe);
          down.destroy();
          up.destroy();
        };
        for (const s of [down, up]) {
          s.setNoDelay(true);
          s.on("error", close);
          s.on("close", close);
        }
        forward(down, up, a.name, b.name);
        forward(up, down, b.name, a.name);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, a.hostIp, () => resolve());
      });
      server.on("error", () => {});
      servers.push(server);
      addrs.set(key(a.name, b.name), { host: a.hostIp, port: (server.address() as { port: number }).port });
    }
  }
  return {
    addressOf(from, to) {
      const x = addrs.get(key(from, to));
      if (!x) throw new DevnetError(DevnetErrorCode.TestbedUnknownNode, `no link ${from} -> ${to}`);
      return x;
    },
    setShape(from, to, shape) {
      const was = shapeOf(from, to);
      shapes.set(key(from, to), { ...shape });
      if (shape.lossPct >= 100 && was.lossPct < 100) {
        for (const p of pipes) {
          if ((p.from === from && p.to === to) || (p.from === to && p.to === from)) {
            p.down.destroy();
            p.up.destroy();
          }
        }
      }
    },
    shapeOf,
    connections() {
      const out: Record<string, number> = {};
      for (const p of pipes) out[key(p.from, p.to)] = (out[key(p.from, p.to)] ?? 0) + 1;
      return out;
    },
    async close() {
      for (const p of pipes) {
        p.down.destroy();
        p.up.destroy();
      }
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
