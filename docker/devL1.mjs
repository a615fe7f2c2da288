// The compose devnet's L1: Hardhat 3's EDR (`hardhat node`) listening on 0.0.0.0 inside its
// container, with Hardhat's default funded dev accounts. Hardhat 3 runs only a config inside a
// project that has Hardhat installed, so the config goes under packages/l1-contracts.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "8545" }, "chain-id": { type: "string", default: "31337" } },
});
const app = process.env.DSEQ_APP ?? "/app";
const pkg = join(app, "packages", "l1-contracts");
const work = join(process.env.DSEQ_L1_WORKDIR ?? join(pkg, ".devl1"), "compose");
mkdirSync(work, { recursive: true });
const config = {
  paths: { artifacts: join(work, "artifacts"), cache: join(work, "cache") },
  networks: { node: { type: "edr-simulated", chainId: Number(values["chain-id"]), hardfork: "prague" } },
};
writeFileSync(join(work, "hardhat.config.js"), `export default ${JSON.stringify(config, null, 2)};\n`);
const cli = join(
  dirname(createRequire(join(pkg, "package.json")).resolve("hardhat/package.json")),
  "dist",
  "src",
  "cli.js",
);
const child = spawn(
  process.execPath,
  [cli, "--config", join(work, "hardhat.config.js"), "node", "--hostname", "0.0.0.0", "--port", values.port],
  { cwd: work, stdio: "inherit", env: { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true", NO_COLOR: "1" } },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 1));
