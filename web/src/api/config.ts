// The web app's configuration (basemap, territories' extents), served by the back end.

import { api } from "./client";

export interface Basemap {
  kind: "raster" | "style";
  url: string;
  attribution?: string | null;
}

export interface Territory {
  name: string;
  bbox: [number, number, number, number];
}

export interface WebConfig {
  basemap: Basemap | null;
  territories: Territory[];
}

const FALLBACK: WebConfig = { basemap: null, territories: [] };

/** The config, or a map without basemap nor extents if it cannot be read. */
export async function loadConfig(): Promise<WebConfig> {
  try {
    return await api<WebConfig>("/api/v1/config");
  } catch {
    return FALLBACK; // the map still works without the territories' extents
  }
}
