import { AdminServer, type AdminServerModules } from "../admin.ts";
import type { NodeConfig } from "../config.ts";
import { listenError, type Started } from "./started.ts";

/** 8. The admin server (metrics, health, dashboard), listening when this returns. */
export async function initAdmin(
  config: NodeConfig,
  blockTimeMs: number,
  m: AdminServerModules,
): Promise<Started<AdminServer> & { endpoint: string }> {
  const admin = new AdminServer({ dataDir: config.dataDir, sync: { blockTimeMs } }, m);
  let port: number;
  try {
    port = (await admin.listen(config.admin.host, config.admin.port)).port;
  } catch (err) {
    throw listenError("admin", config.admin.host, config.admin.port, err);
  }
  return { module: admin, endpoint: `http://${config.admin.host}:${port}`, stop: () => admin.close() };
}
