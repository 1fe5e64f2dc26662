// Routing: services, competence rules, the preview of who receives a report.

import { api, itemsOf } from "./client";

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
  /** service (in Carto), email (a front desk without Carto), queue (nobody yet: « à orienter »). */
  delivery?: "service" | "email" | "queue";
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

/** The services an administrator manages. */
export async function loadAdminServices(): Promise<ServiceAdmin[]> {
  return api<ServiceAdmin[]>("/api/v1/admin/services");
}

export interface ServiceContact {
  name: string;
  email: string | null;
  webhook_url: string | null;
}

export async function updateService(id: number, contact: ServiceContact): Promise<void> {
  await api(`/api/v1/admin/services/${id}`, { method: "PATCH", json: contact });
}

export async function createService(body: ServiceContact & { authority_id: number; slug: string | null }): Promise<void> {
  await api("/api/v1/admin/services", { method: "POST", json: body });
}

/** Every service a ticket may be oriented to. */
export async function loadServiceOptions(): Promise<ServiceOption[]> {
  return itemsOf<ServiceOption>(await api("/api/v1/services"));
}

export async function loadRules(category: string | null, includeClosed: boolean): Promise<Rule[]> {
  return itemsOf<Rule>(await api("/api/v1/admin/competences", { query: { category, include_closed: includeClosed } }));
}

/** The fields a new version of a rule may change. */
export interface RuleUpdate {
  level: string;
  authority_id: number | null;
  road_class: string | null;
  service_slug: string | null;
  valid_from: string | null;
  note: string | null;
}

export interface RuleCreate extends RuleUpdate {
  category: string;
  scope_kind: string;
  scope_code: string | null;
}

/** A new version of the rule (the old one closes); resolves with the new version. */
export async function updateRule(id: number, body: RuleUpdate): Promise<Rule> {
  return api<Rule>(`/api/v1/admin/competences/${id}`, { method: "PATCH", json: body });
}

export async function createRule(body: RuleCreate): Promise<Rule> {
  return api<Rule>("/api/v1/admin/competences", { method: "POST", json: body });
}

/** Close the rule from now on (its history stays). */
export async function closeRule(id: number): Promise<void> {
  await api(`/api/v1/admin/competences/${id}`, { method: "DELETE" });
}

/** Who would receive a report of `serviceCode` at a point, and why. */
export async function loadPreview(lon: number, lat: number, serviceCode: string): Promise<Preview> {
  return api<Preview>("/api/v1/routing/preview", { query: { lon, lat, service_code: serviceCode } });
}

export async function loadTransferCandidates(signalementId: number | string, q: string): Promise<TransferCandidates> {
  return api<TransferCandidates>(`/api/v1/signalements/${encodeURIComponent(String(signalementId))}/transfer-candidates`, { query: { q } });
}
