// Signalements: the types the API returns for a report and its history.

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
