// The web app's layering, checked at build: views never import each other; widgets
// never import views; api/ modules import only api/. Usage: node check-imports.mjs [src]
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

const problems = [];
for (const file of files(src)) {
  const from = relative(src, file).replaceAll("\\", "/");
  const layer = layerOf(from);
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue; // a package (maplibre-gl)
    const target = relative(src, resolve(dirname(file), spec)).replaceAll("\\", "/");
    if ((FORBIDDEN[layer] ?? []).includes(layerOf(target))) problems.push(`${from} imports ${target}`);
  }
}
if (problems.length) {
  console.error(`Forbidden imports (views import only api/, widgets and shared modules):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
