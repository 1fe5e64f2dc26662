import { defineConfig } from "vite";

// Built into web/dist, served by the FastAPI app at "/" (carto/web.py).
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    assetsInlineLimit: 0,
    // Quiet `make install`: no timing report when the 2-core machine is busy.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    // `npm run dev` against a running `carto demo`.
    proxy: Object.fromEntries(
      ["/api", "/open311", "/ogc", "/tiles", "/exports", "/media", "/healthz"].map((p) => [
        p,
        "http://127.0.0.1:8000",
      ]),
    ),
  },
});
