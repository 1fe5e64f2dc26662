// Routing: services, competence rules, the preview of who receives a report.

export interface ServiceAdmin {
  id: number;
  authority_id: number;
  authority: string;
  slug: string;
  name: string;
  email: string | null;
  webhook_url: string | null;
}

export interface Rule {
  id: number;
  category: string;
  level: string;
  authority_id: number | null;
  authority: string | null;
  scope_kind: string;
  scope_code: string | null;
  road_class: string | null;
  service_slug: string;
  valid_from: string | null;
  valid_to: string | null;
  active: boolean;
  source: string;
  note: string | null;
  replaces_id: number | null;
}

export type Named = string | { name?: string; nom?: string; label?: string } | null | undefined;

export interface Informed {
  id: number;
  name: string;
  authority: string;
  reason?: string | null;
}

export interface Preview {
  informed?: Informed[];
  authority?: Named;
  service?: Named;
  agency_responsible?: string;
  explanation?: unknown;
  commune?: Named;
}

export interface ServiceOption {
  id: number;
  name: string;
  authority?: string;
}

/** The services a ticket may be sent on to, grouped by authority (GET …/transfer-candidates). */
export interface TransferGroup {
  authority_id: number;
  authority: string;
  /** The ticket's commune, one of its intercommunalities, or another authority. */
  relation: string;
  services: { id: number; name: string }[];
}

export interface TransferCandidates {
  query: string | null;
  groups: TransferGroup[];
  limit: number;
}
