#!/usr/bin/env bash
# Runs the unit phase the way a user's fresh clone runs it: no ../shared/vectors beside the repo
# (DSEQ_VECTORS points at an empty folder, DSEQ_REQUIRE_VECTORS unset). Fails when that run
# fails, or when a test tagged "[vectors]" ran instead of skipping, or when none was skipped
# (the tag went missing). .ci/run calls it before the real suite.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
empty="$(mktemp -d)"
report="$(mktemp -d)/unit.json"
trap 'rm -rf "$empty" "$(dirname "$report")"' EXIT
cd "$root"
env -u DSEQ_REQUIRE_VECTORS DSEQ_VECTORS="$empty" \
  vitest run --project unit --reporter=dot --reporter=json --outputFile.json="$report" "$@"
rc=$?
node - "$report" "$rc" <<'JS'
const [file, rc] = process.argv.slice(2);
const fs = require("node:fs");
if (!fs.existsSync(file)) {
  console.error(`fresh-clone check: vitest wrote no report (exit ${rc})`);
  process.exit(1);
}
const r = JSON.parse(fs.readFileSync(file, "utf8"));
const tagged = [];
for (const f of r.testResults) for (const a of f.assertionResults) {
  if (a.fullName.includes("[vectors]")) tagged.push({ file: f.name, name: a.fullName, status: a.status });
}
const ran = tagged.filter((t) => t.status !== "skipped" && t.status !== "pending" && t.status !== "todo");
const skipped = tagged.length - ran.length;
console.log(`fresh-clone check: unit exit ${rc}, ${r.numPassedTests} passed, ${r.numFailedTests} failed, ` +
  `${r.numFailedTestSuites} failed files; [vectors] tests skipped: ${skipped}, ran: ${ran.length}`);
for (const t of ran) console.error(`  ran without vectors: ${t.name} (${t.status}) in ${t.file}`);
if (rc !== "0" || r.numFailedTests > 0 || r.numFailedTestSuites > 0 || ran.length > 0 || skipped === 0) {
  console.error("fresh-clone check FAILED: a clone without ../shared/vectors does not pass `npm test`");
  process.exit(1);
}
JS
