import { createServer, type Server } from "node:net";
import { DevnetError, DevnetErrorCode } from "./errors.ts";

/**
 * Ports are drawn from 20000-32767, below Linux's ephemeral range (32768-60999): an ephemeral
 * port handed out by `listen(0)` can be taken a moment later by one of our own nodes' outgoing
 * libp2p dials, so a port we pick there could be gone before the node binds it.
 */
export const PORT_RANGE = { min: 20_000, max: 32_767 } as const;

function tryListen(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen({ port, host, exclusive: true }, () => resolve(srv));
  });
}

function close(srv: Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** True when a TCP listener can bind `host:port` right now. */
export async function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  const srv = await tryListen(port, host);
  if (srv === undefined) return false;
  await close(srv);
  return true;
}

/**
 * `count` distinct ports that were free on `host` at the time of the call. All probes stay open
 * until every port is found, so the answer never holds the same port twice.
 */
export async function allocatePorts(
  count: number,
  opts: { host?: string; exclude?: Iterable<number> } = {},
): Promise<number[]> {
  const host = opts.host ?? "127.0.0.1";
  const exclude = new Set(opts.exclude ?? []);
  const held: Server[] = [];
  const out: number[] = [];
  try {
    let attempts = 0;
    while (out.length < count) {
      if (++attempts > count * 50 + 200) {
        throw new DevnetError(DevnetErrorCode.NoPorts, `could not find ${count} free ports on ${host}`);
      }
      const port = PORT_RANGE.min + Math.floor(Math.random() * (PORT_RANGE.max - PORT_RANGE.min + 1));
      if (exclude.has(port)) continue;
      const srv = await tryListen(port, host);
      if (srv === undefined) continue;
      held.push(srv);
      exclude.add(port);
      out.push(port);
    }
  } finally {
    await Promise.all(held.map(close));
  }
  return out;
}
