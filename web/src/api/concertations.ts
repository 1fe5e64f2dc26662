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

export interface ThemeInput {
  slug?: string;
  label: string;
  color: string;
}

export interface ReferenceLayer {
  id: number;
  slug: string;
  title: string;
  role: string;
  rule: string | null;
  features: number;
  color: string;
  message: string;
  description?: string;
  distance_m?: number | null;
  /** The constraint in one French sentence, from the server (empty for a reference layer). */
  explanation?: string;
}

export async function loadLayerFeatures(layer: ReferenceLayer): Promise<GeoJSON.FeatureCollection> {
  return api<GeoJSON.FeatureCollection>(`/api/v1/reference-layers/${layer.id}/features`);
}

export interface ConcertationDetail extends Concertation {
  kind: string;
  authorities: string[];
  archived_at: string | null;
  reference_layers: ReferenceLayer[];
}

export interface Facet {
  label: string;
  count: number;
  color?: string;
}

export interface Ranked {
  id: number;
  title: string | null;
  theme_label: string;
  supports: number;
  votes_for: number;
  votes_against: number;
}

export interface TextTheme {
  label: string;
  size: number;
  top_terms: string[];
}

export interface Synthesis {
  totals: Record<string, number>;
  by_theme: Facet[];
  by_kind: Facet[];
  by_channel: Facet[];
  by_answer: Facet[];
  by_commune: { nom: string; contributions: number; per_1000: number | null }[];
  most_supported: Ranked[];
  most_disputed: Ranked[];
  text_themes: TextTheme[];
}

/** A perimeter given as INSEE codes of communes and SIREN codes of intercommunalities. */
export interface PerimeterInput {
  communes: string[];
  intercommunalites: string[];
}

export interface ConcertationCreate {
  title: string;
  description: string;
  kind: string;
  authorities: string[];
  perimeter: PerimeterInput;
  /** ISO 8601; null lets the server refuse an empty date in French. */
  opens_at: string | null;
  closes_at: string | null;
  themes: ThemeInput[];
  allowed_geometry_types: string[];
}

/** Every field optional: the server changes only what is given. */
export type ConcertationUpdate = Partial<Pick<ConcertationCreate, "title" | "description" | "opens_at" | "closes_at" | "perimeter" | "themes">>;

export async function createConcertation(body: ConcertationCreate): Promise<Concertation> {
  return api<Concertation>("/api/v1/concertations", { method: "POST", json: body });
}

/** One concertation with its settings (an administrator's view), by slug. */
export async function loadConcertationDetail(slug: string): Promise<ConcertationDetail> {
  return api<ConcertationDetail>(`/api/v1/concertations/${encodeURIComponent(slug)}`);
}

export async function updateConcertation(c: Concertation, body: ConcertationUpdate): Promise<void> {
  await api(`/api/v1/concertations/${c.id}`, { method: "PATCH", json: body });
}

export async function archiveConcertation(c: Concertation): Promise<void> {
  await api(`/api/v1/concertations/${c.id}/archive`, { method: "POST" });
}

/** Upload a reference layer (the form's file and settings); resolves with its feature count. */
export async function addReferenceLayer(c: Concertation, form: FormData): Promise<{ features: number }> {
  return api<{ features: number }>(`/api/v1/concertations/${c.id}/reference-layers`, { method: "POST", form });
}

export async function loadSynthesis(c: Concertation): Promise<Synthesis> {
  return api<Synthesis>(`/api/v1/concertations/${encodeURIComponent(c.slug)}/synthesis`);
}

/** The printable synthesis report (HTML), for a link. */
export function synthesisReportUrl(c: Concertation): string {
  return `/api/v1/concertations/${encodeURIComponent(c.slug)}/synthesis.html`;
}
