// FAKE of `dseq start`, for the supervisor tests only (they must run before the real node
// exists): reads the devnet-written config, answers eth_blockNumber/eth_chainId on rpc.http,
// exits 0 on SIGTERM. It knows nothing of consensus; the e2e tests use the real node.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const args = process.argv.slice(2);
const cfgPath = args[args.indexOf("--config") + 1];
if (args[0] !== "start" || !cfgPath) {
  process.stderr.write("fake dseq: usage: start --config FILE\n");
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
const started = Date.now();
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const call = JSON.parse(body);
    const result =
      call.method === "eth_blockNumber"
        ? `0x${Math.floor((Date.now() - started) / 1000).toString(16)}`
        : call.method === "eth_chainId"
          ? "0x1"
          : null;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, result }));
  });
});
server.listen(cfg.rpc.http.port, cfg.rpc.http.host, () => {
  process.stdout.write(`${JSON.stringify({ msg: "fake node started", pid: process.pid, mode: cfg.mode })}\n`);
});
process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ msg: "fake node stopping" })}\n`);
  server.close();
  process.exit(0);
});
