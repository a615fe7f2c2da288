import { readFileSync } from "node:fs";

/** The dashboard's files, read once: plain HTML, CSS and one ES module; nothing from a CDN. */
const files: Record<string, { file: string; contentType: string }> = {
  "/": { file: "index.html", contentType: "text/html; charset=utf-8" },
  "/dashboard": { file: "index.html", contentType: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: "app.js", contentType: "text/javascript; charset=utf-8" },
  "/dashboard/style.css": { file: "style.css", contentType: "text/css; charset=utf-8" },
};

const cache = new Map<string, string>();

export function dashboardAsset(path: string): { body: string; contentType: string } | undefined {
  const f = files[path];
  if (!f) return undefined;
  let body = cache.get(f.file);
  if (body === undefined) {
    body = readFileSync(new URL(`./static/${f.file}`, import.meta.url), "utf8");
    cache.set(f.file, body);
  }
  return { body, contentType: f.contentType };
}
