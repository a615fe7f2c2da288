#!/usr/bin/env node
// The dseq CLI. Runs the TypeScript sources directly (Node >= 22.18 strips types natively).
import { main } from "../src/cli/main.ts";

process.exit(await main(process.argv.slice(2)));
