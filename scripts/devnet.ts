// `pnpm devnet`: the one-command local network. It is built by the node and devnet issue;
// until then this entry point says so instead of failing obscurely.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const cli = resolve(import.meta.dirname, "..", "packages", "devnet", "src", "cli.ts");
if (!existsSync(cli)) {
  console.error("dseq devnet is not built yet (packages/devnet arrives with the node and devnet issue).");
  process.exit(1);
}
await import(pathToFileURL(cli).href);
