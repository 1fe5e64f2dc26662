// The web app's layering, checked at build: views never import each other; widgets
// never import views; api/ modules import only api/; and only api/ talks to the back
// end (no `api(` call, no "/api/v1" URL elsewhere). Usage: node check-imports.mjs [src]
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const src = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "src"));
const IMPORT = /^\s*(?:import|export)\b[^"']*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

const layerOf = (rel) => (rel.includes("/") ? rel.split("/")[0] : "shared");
const FORBIDDEN = { views: ["views"], widgets: ["views"], api: ["views", "widgets", "shared"] };

// A call of client.ts's api() (with or without a type argument), and the API's URLs.
const API_CALL = /(?<![\w.$])api\s*(?:<[^()]*>)?\s*\(/;
const API_URL = "/api/v1";
// Importing api() itself (under any name) outside api/ is the same breach.
const API_IMPORT = /import\s*(?:type\s*)?\{[^}]*\bapi\b[^}]*\}\s*from\s*["'][^"']*api\/client["']/;

const problems = [];
for (const file of files(src)) {
  const from = relative(src, file).replaceAll("\\", "/");
  const layer = layerOf(from);
  const text = readFileSync(file, "utf8");
  if (layer !== "api") {
    text.split("\n").forEach((line, i) => {
      if (API_CALL.test(line) || API_IMPORT.test(line) || line.includes(API_URL)) problems.push(`${from}:${i + 1} talks to the API outside api/: ${line.trim()}`);
    });
  }
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue; // a package (maplibre-gl)
    const target = relative(src, resolve(dirname(file), spec)).replaceAll("\\", "/");
    if ((FORBIDDEN[layer] ?? []).includes(layerOf(target))) problems.push(`${from} imports ${target}`);
  }
}
if (problems.length) {
  console.error(
    `Forbidden imports or API calls (views import only api/, widgets and shared modules; only api/ calls the API):\n  ${problems.join("\n  ")}`,
  );
  process.exit(1);
}
