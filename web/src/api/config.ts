// The web app's configuration (basemap, territories' extents), served by the back end.

import { api } from "./client";

export interface Basemap {
  kind: "raster" | "style";
  url: string;
  attribution?: string | null;
  /** Draw Carto's own base instead when this one cannot be reached in time. */
  fallback?: boolean;
}

export interface Territory {
  name: string;
  bbox: [number, number, number, number];
}

export interface WebConfig {
  basemap: Basemap | null;
  territories: Territory[];
  /** Set when the configured base map could not be reached: the map says so. */
  basemapUnreachable?: boolean;
}

const FALLBACK: WebConfig = { basemap: null, territories: [] };
/** `CARTO_BASEMAP=auto`: how long the third party's style may take before the own base. */
export const BASEMAP_TIMEOUT_MS = 3000;

async function reachable(url: string): Promise<boolean> {
  const abort = new AbortController();
  const timer = window.setTimeout(() => abort.abort(), BASEMAP_TIMEOUT_MS);
  try {
    const resp = await fetch(url, { signal: abort.signal, credentials: "omit", referrerPolicy: "no-referrer" });
    return resp.ok;
  } catch {
    return false; // offline, blocked, or too slow
  } finally {
    window.clearTimeout(timer);
  }
}

/** The config, or a map without basemap nor extents if it cannot be read. */
export async function loadConfig(): Promise<WebConfig> {
  let config: WebConfig;
  try {
    config = await api<WebConfig>("/api/v1/config");
  } catch {
    return FALLBACK; // the map still works without the territories' extents
  }
  const base = config.basemap;
  if (base?.fallback && base.kind === "style" && !(await reachable(base.url))) {
    return { ...config, basemap: null, basemapUnreachable: true };
  }
  return config;
}
