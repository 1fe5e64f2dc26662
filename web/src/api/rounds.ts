// Rounds ("tournées"): a service's tickets ordered along the streets from its depot,
// and the same round as a GPX file or a printable sheet.

import { api } from "./client";

export interface LonLat {
  lon: number;
  lat: number;
}

export interface RoundStop {
  rank: number;
  signalement_id: number;
  category: string;
  address: string | null;
  description: string;
  location: LonLat;
  leg_m: number;
  eta_minutes: number;
}

export interface SetApart {
  signalement_id: number;
  message: string;
  category: string;
  address: string | null;
}

export interface Round {
  service_id: number;
  start: LonLat;
  start_name: string;
  stops: RoundStop[];
  set_apart: SetApart[];
  route: { type: "LineString"; coordinates: [number, number][] };
  distance_m: number;
  baseline_distance_m: number;
  duration_minutes: number;
  budget_minutes: number | null;
}

export interface Depot extends LonLat {
  name: string;
}

export interface RoundRequest {
  signalement_ids: number[];
  budget_minutes: number | null;
  /** Null: from the service's depot. */
  start: LonLat | null;
}

export async function planRound(serviceId: number, body: RoundRequest): Promise<Round> {
  return api<Round>(`/api/v1/services/${serviceId}/rounds`, { method: "POST", json: body });
}

/** The service's depot, or null when it has none (the agent then picks a start). */
export async function loadDepot(serviceId: number): Promise<Depot | null> {
  return api<Depot | null>(`/api/v1/services/${serviceId}/depot`);
}

/** The same round again, as the GPX and printable forms name it. */
export type RoundQuery = Record<string, string | number | null>;

/** The round as a GPX or HTML Blob. Through `api()`, so the request is authenticated
 * however the session travels (bearer header or session cookie); text comes back as is. */
export async function roundFile(serviceId: number, format: "gpx" | "html", query: RoundQuery): Promise<Blob> {
  const text = await api<string>(`/api/v1/services/${serviceId}/rounds.${format}`, { query });
  return new Blob([text], { type: format === "gpx" ? "application/gpx+xml" : "text/html" });
}
