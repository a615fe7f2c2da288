import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { DevnetError, DevnetErrorCode } from "../errors.ts";
import type { Testbed } from "./driver.ts";
import { checkShape, type LinkShape } from "./plan.ts";

/**
 * Scripting a running testbed from another terminal (`pnpm devnet testbed ...`): the supervisor
 * serves POST /testbed on 127.0.0.1 with a bearer token, both written to
 * `<dataDir>/testbed-control.json` (mode 0600).
 */
export const TESTBED_CONTROL_FILE = "testbed-control.json";

export type TestbedAction =
  | { op: "shape"; shape: LinkShape; from?: string; to?: string }
  | { op: "partition"; a: string[]; b: string[]; oneWay?: boolean }
  | { op: "heal" }
  | { op: "show" };

const MAX_BODY = 16 * 1024;

/** Applies one action; returns every directed link's shape (the answer to every action). */
export function applyTestbedAction(tb: Testbed, act: TestbedAction): Record<string, LinkShape> {
  if (act.op === "shape") {
    const s = checkShape(act.shape);
    if (act.from !== undefined && act.to !== undefined) tb.shapeLink(act.from, act.to, s);
    else if (act.from === undefined && act.to === undefined) tb.shapeAll(s);
    else throw new DevnetError(DevnetErrorCode.TestbedShape, "a link needs both --from and --to");
  } else if (act.op === "partition") tb.partition(act.a, act.b, act.oneWay ? { oneWay: true } : {});
  else if (act.op === "heal") tb.heal();
  const out: Record<string, LinkShape> = {};
  for (const a of tb.plan.nodes)
    for (const b of tb.plan.nodes) if (a !== b) out[`${a.name}>${b.name}`] = tb.linkShape(a.name, b.name);
  return out;
}

export async function serveTestbedControl(dataDir: string, tb: Testbed): Promise<{ close(): Promise<void> }> {
  const token = randomBytes(24).toString("hex");
  const server: Server = createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? "");
    const want = Buffer.from(`Bearer ${token}`);
    if (
      req.method !== "POST" ||
      req.url !== "/testbed" ||
      auth.length !== want.length ||
      !timingSafeEqual(auth, want)
    ) {
      res.writeHead(req.method !== "POST" ? 405 : 401).end();
      return;
    }
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
      if (body.length > MAX_BODY) req.destroy();
    });
    req.on("end", () => {
      try {
        const links = applyTestbedAction(tb, JSON.parse(body) as TestbedAction);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ links }));
      } catch (err) {
        res
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/testbed`;
  const file = join(dataDir, TESTBED_CONTROL_FILE);
  writeFileSync(file, `${JSON.stringify({ url, token })}\n`, { mode: 0o600 });
  return {
    close: () =>
      new Promise<void>((r) => {
        rmSync(file, { force: true });
        server.close(() => r());
      }),
  };
}

/** Sends one action to the running supervisor of `dataDir`. */
export async function sendTestbedAction(
  dataDir: string,
  act: TestbedAction,
): Promise<Record<string, LinkShape>> {
  const file = join(dataDir, TESTBED_CONTROL_FILE);
  if (!existsSync(file)) {
    throw new DevnetError(
      DevnetErrorCode.TestbedNotRunning,
      `no testbed runs on ${dataDir} (start it with pnpm devnet --netns)`,
    );
  }
  const { url, token } = JSON.parse(readFileSync(file, "utf8")) as { url: string; token: string };
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(act),
    signal: AbortSignal.timeout(10_000),
  });
  const out = (await res.json()) as { links?: Record<string, LinkShape>; error?: string };
  if (!res.ok || !out.links)
    throw new DevnetError(DevnetErrorCode.TestbedAction, out.error ?? `HTTP ${res.status}`);
  return out.links;
}
