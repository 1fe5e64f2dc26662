// Address search: `GET /api/v1/geocode`, answered as the national address API (BAN) answers.

import { api } from "./client";

export type PlaceType = "housenumber" | "street" | "locality" | "municipality";

/** One suggestion: its label, kind and point (lon/lat, WGS84). */
export interface Place {
  label: string;
  type: PlaceType;
  city: string | null;
  postcode: string | null;
  lon: number;
  lat: number;
}

interface BanFeature {
  geometry: { coordinates: [number, number] };
  properties: { label: string; type: PlaceType; city?: string | null; postcode?: string | null };
}

/** Suggestions for `q`, nearest the map view first when `near` is given. */
export async function searchPlaces(q: string, near: { lng: number; lat: number } | null, limit = 6): Promise<Place[]> {
  const data = await api<{ features: BanFeature[] }>("/api/v1/geocode", {
    query: { q, limit, lon: near?.lng.toFixed(5), lat: near?.lat.toFixed(5) },
  });
  return data.features.map((f) => ({
    label: f.properties.label,
    type: f.properties.type,
    city: f.properties.city ?? null,
    postcode: f.properties.postcode ?? null,
    lon: f.geometry.coordinates[0],
    lat: f.geometry.coordinates[1],
  }));
}
