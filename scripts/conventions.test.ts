// Repository conventions a newcomer relies on (issue 21, ../shared/STYLE.md), checked on every
// run instead of by reading: each package has its error table, codes are never inline strings,
// and a source file over ~500 lines says at its top why it is that long.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const packagesDir = join(root, "packages");
const packages = readdirSync(packagesDir).filter((p) => existsSync(join(packagesDir, p, "package.json")));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist" || name === "generated") continue;
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const files = packages.flatMap((p) => {
  const src = join(packagesDir, p, "src");
  return existsSync(src) ? sourceFiles(src) : [];
});

describe("repository conventions", () => {
  it("every package has src/errors.ts with an error class extending DseqError (or is common itself)", () => {
    const missing = packages.filter((p) => {
      const f = join(packagesDir, p, "src", "errors.ts");
      if (!existsSync(f)) return true;
      return !/class \w+ extends (DseqError|\w+Error)\b/.test(readFileSync(f, "utf8"));
    });
    expect(missing).toEqual([]);
  });

  it("error codes come from a code table, never an inline string at the throw", () => {
    // `new XError("SOME_CODE", ...)` or `super("SOME_CODE", ...)`, also with the code on the next line
    const inline = /(?:new \w*Error|super)\(\s*"[A-Z][A-Z0-9_]{2,}"\s*,/g;
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(inline)) {
        const line = text.slice(0, m.index).split("\n").length;
        found.push(`${relative(root, f)}:${line}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("a source file over 500 lines says at its top why", () => {
    const long = files.filter((f) => {
      const text = readFileSync(f, "utf8");
      if (text.split("\n").length <= 500) return false;
      return !/Over 500 lines/.test(text.split("\n").slice(0, 40).join("\n"));
    });
    expect(long.map((f) => relative(root, f))).toEqual([]);
  });
});
