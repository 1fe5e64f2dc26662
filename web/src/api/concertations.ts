// Concertations: the types the API returns and their loaders.

import { api, itemsOf } from "./client";
import { isOpenCode } from "./vocabulary";

export type GeometryType = "Point" | "LineString" | "Polygon";

export interface Theme {
  slug: string;
  label: string;
  color: string;
}

export interface Concertation {
  id: number;
  slug: string;
  title: string;
  description?: string;
  status: string;
  status_label?: string;
  opens_at?: string;
  closes_at?: string;
  perimeter: GeoJSON.Geometry;
  themes: Theme[];
  allowed_geometry_types?: GeometryType[];
  allowed_kinds?: string[];
  contributions?: number;
}

/** Whether contributions are accepted now (the server's "open" statuses). */
export const isOpen = (c: Concertation): boolean => isOpenCode("concertation_status", c.status);

export async function loadConcertations(): Promise<Concertation[]> {
  return itemsOf<Concertation>(await api("/api/v1/concertations"));
}

export async function findConcertation(slug: string): Promise<Concertation> {
  return api<Concertation>(`/api/v1/concertations/${encodeURIComponent(slug)}`);
}
