// The `dseq` entry point a testbed devnet starts instead of dseq itself (startDevnet's dseqBin).
// Called as `node nsLauncher.mjs start --config <dataDir>/<node>/config.json`, it reads
// <dataDir>/testbed.json, then runs the real dseq inside the node's network namespace:
//   ip netns exec <netns> setpriv --pdeathsig KILL -- node <dseq> start --config ...
// (a kill -9 of this launcher kills the node too), with libfaketime preloaded when the node's
// clock is skewed, and forwards 127.0.0.1:<http|ws|admin port> of the root namespace to the
// node's address, so the devnet's URLs stay the same. SIGTERM/SIGINT/SIGCONT are passed on;
// SIGSTOP (devnet pause) stops only this launcher, not the node.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { basename, dirname, join } from "node:path";

const argv = process.argv.slice(2);
const at = argv.indexOf("--config");
if (at < 0 || !argv[at + 1]) {
  process.stderr.write("nsLauncher: expected start --config <path>\n");
  process.exit(2);
}
const configPath = argv[at + 1];
const nodeDir = dirname(configPath);
const name = basename(nodeDir);
const testbed = JSON.parse(readFileSync(join(dirname(nodeDir), "testbed.json"), "utf8"));
const node = testbed.nodes?.[name];
if (!node) {
  process.stderr.write(`nsLauncher: ${name} is not in testbed.json\n`);
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, "utf8"));

const servers = [];
for (const port of [config.rpc?.http?.port, config.rpc?.ws?.port, config.admin?.port]) {
  if (typeof port !== "number") continue;
  const server = createServer((down) => {
    const up = createConnection({ host: node.ip, port });
    const close = () => {
      down.destroy();
      up.destroy();
    };
    down.on("error", close);
    up.on("error", close);
    down.on("close", close);
    up.on("close", close);
    down.pipe(up);
    up.pipe(down);
  });
  server.on("error", (err) =>
    process.stderr.write(`nsLauncher: forward 127.0.0.1:${port}: ${err.message}\n`),
  );
  server.listen(port, "127.0.0.1");
  servers.push(server);
}

const env = { ...process.env };
const skew = testbed.clockSkew?.[name];
if (skew) {
  env.LD_PRELOAD = testbed.libfaketime;
  env.FAKETIME = skew;
  // timers and performance.now stay true: only the wall clock (Date.now) is off
  env.FAKETIME_DONT_FAKE_MONOTONIC = "1";
  env.FAKETIME_DONT_RESET = "1";
}
const child = spawn(
  "ip",
  [
    "netns",
    "exec",
    node.netns,
    "setpriv",
    "--pdeathsig",
    "KILL",
    "--",
    process.execPath,
    testbed.dseqBin,
    ...argv,
  ],
  { stdio: "inherit", env },
);
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP", "SIGCONT"]) {
  process.on(sig, () => child.kill(sig));
}
child.on("error", (err) => {
  process.stderr.write(`nsLauncher: ${err.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  for (const s of servers) s.close();
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
