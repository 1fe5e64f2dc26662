// Signalements: the types the API returns for a report and its history, their loaders
// and the actions on a ticket (transitions, transfer, merge, address, orientation).

import { api, itemsOf } from "./client";

export interface HistoryEntry {
  state: string;
  label?: string;
  at: string;
  note?: string | null;
  event?: string;
  internal_note?: string | null;
  actor?: string | null;
  to_service?: string | null;
}

/** A report's address, in the fields of a Base Adresse Nationale feature. */
export interface Address {
  label: string;
  type?: "housenumber" | "street" | "municipality" | null;
  housenumber?: string | null;
  street?: string | null;
  postcode?: string | null;
  citycode?: string | null;
  city?: string | null;
  source?: "reverse" | "citizen" | "staff" | null;
}

/** Another report near a ticket (the agent's "around"). */
export interface Around {
  id: number;
  state: string;
  service_code: string;
  category: string;
  address: string | null;
  distance_m: number;
  location: { type: "Point"; coordinates: [number, number] };
}

/** The one line to show for an address, whichever shape the API gave. */
export function addressLabel(a: string | Address | null | undefined): string | null {
  if (!a) return null;
  return typeof a === "string" ? a : a.label;
}

export interface Photo {
  url: string;
  thumbnail_url?: string | null;
}

export interface Signalement {
  id: number | string;
  reference?: string;
  state: string;
  state_label?: string;
  category?: string;
  service_code: string;
  authority?: string | { name?: string };
  service?: string | { name?: string };
  location?: { type: "Point"; coordinates: [number, number] };
  history?: HistoryEntry[];
  explanation?: unknown;
  description?: string | null;
  created_at?: string;
  due_at?: string | null;
  overdue?: boolean;
  /** True when the caller may act on the ticket (its service's staff); the server still decides. */
  may_act?: boolean;
  commune?: string | { name?: string } | null;
  photos?: Photo[];
  photo?: Photo | string | null;
  photo_url?: string | null;
  supports?: number;
  address?: string | Address | null;
  duplicate_of?: number | null;
}

/** A line of an agent's queue. */
export interface QueueItem {
  id: number | string;
  state: string;
  service_code: string;
  service_id?: number;
  commune?: string | { name?: string } | null;
  created_at: string;
  due_at?: string | null;
  overdue?: boolean;
  location?: { type: "Point"; coordinates: [number, number] };
  description?: string | null;
  summary?: string | null;
  category?: string;
  supports?: number;
  address?: string | null;
}

export interface Reporter {
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  has_account: boolean;
}

export interface MyItem {
  id: number | string;
  state: string;
  service_code: string;
  created_at?: string;
  description?: string;
}

export interface Created {
  id: number | string;
  reference?: string;
  service_request_id?: string;
}

export interface Nearby {
  id: number | string;
  state?: string;
  description?: string;
  summary?: string;
  address?: string | null;
  distance_m?: number;
  supports?: number;
  supporters?: number;
  created_at?: string;
}

const one = (id: number | string): string => `/api/v1/signalements/${encodeURIComponent(String(id))}`;

/** A report: the public view, or more (the reporter) for its service's staff. */
export async function loadSignalement(id: number | string): Promise<Signalement & { reporter?: Reporter | null }> {
  return api<Signalement & { reporter?: Reporter | null }>(one(id));
}

/** The queue's filters, as the API names them (null: not filtered). */
export type QueueQuery = Record<string, string | number | null>;

export async function loadQueue(query: QueueQuery): Promise<QueueItem[]> {
  return itemsOf<QueueItem>(await api("/api/v1/signalements", { query }));
}

/** The signed-in citizen's own reports. */
export async function loadMySignalements(): Promise<MyItem[]> {
  return itemsOf<MyItem>(await api("/api/v1/me/signalements"));
}

export interface SignalementCreate {
  lon: number;
  lat: number;
  service_code: string;
  description: string;
  email?: string;
  photo_id?: string;
}

export async function createSignalement(body: SignalementCreate): Promise<Created> {
  return api<Created>("/api/v1/signalements", { method: "POST", json: body });
}

/** Move a ticket along its lifecycle (the server checks who may, and which move). */
export async function transition(id: number | string, to: string, note: string | null): Promise<void> {
  await api(`${one(id)}/transitions`, { method: "POST", json: { to, note } });
}

export async function transfer(id: number | string, serviceId: number, reason: string): Promise<void> {
  await api(`${one(id)}/transfer`, { method: "POST", json: { service_id: serviceId, reason } });
}

/** Merge the report `duplicate` into `into` (the one kept). */
export async function merge(duplicate: number | string, into: number | string): Promise<void> {
  await api(`${one(duplicate)}/merge`, { method: "POST", json: { into } });
}

/** A citizen's « moi aussi » on a report near theirs. */
export async function addSupport(id: number | string): Promise<void> {
  await api(`${one(id)}/supports`, { method: "POST", json: {} });
}

/** Open reports of the same category near a point, before filing a new one. */
export async function loadNearby(lon: number, lat: number, serviceCode: string): Promise<Nearby[]> {
  return itemsOf<Nearby>(await api("/api/v1/signalements/nearby", { query: { lon, lat, service_code: serviceCode } }));
}

/** The staff's correction of a ticket's address. */
export async function setAddress(id: number | string, address: Omit<Address, "type" | "source">): Promise<void> {
  await api(`${one(id)}/address`, { method: "PUT", json: address });
}

export async function loadAround(id: number | string): Promise<Around[]> {
  return api<Around[]>(`${one(id)}/around`);
}

/** An orientation decision on a ticket routed by default (confirm, or reroute to a service). */
export type Orientation = { action: "confirm" } | { action: "reroute"; service_id: number | null; reason: string | null };

export async function orient(id: number | string, body: Orientation): Promise<void> {
  await api(`${one(id)}/orientation`, { method: "POST", json: body });
}
