// The streets Carto imported, as GeoJSON, for the own base map at street zoom.

import { withQuery } from "./client";

/** The streets in a lon/lat box ("w,s,e,n"); null when the server has none to give. */
export async function loadStreets(bbox: string): Promise<GeoJSON.GeoJSON | null> {
  // A plain fetch, not api(): an anonymous read that must not touch the session flag.
  const resp = await fetch(withQuery("/api/v1/streets", { bbox }), { headers: { Accept: "application/json" } });
  return resp.ok ? ((await resp.json()) as GeoJSON.GeoJSON) : null;
}
