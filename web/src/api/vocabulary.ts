// The server's codes and their French labels (GET /api/v1/vocabulary), loaded once at
// start: states, statuses, kinds, answers and categories are never typed again here.

import { api } from "./client";

export interface Term {
  code: string;
  label: string;
}

export interface Vocabulary {
  domains: Record<string, Term[]>;
  /** The codes of a domain that count as open (signalement states, concertation statuses). */
  open: Record<string, string[]>;
}

let current: Vocabulary = { domains: {}, open: {} };

/** Fetch the vocabulary; until it arrives (or if it fails) labels fall back to the codes. */
export async function loadVocabulary(): Promise<void> {
  current = await api<Vocabulary>("/api/v1/vocabulary");
}

/** A domain's terms, in the server's display order. */
export function terms(domain: string): Term[] {
  return current.domains[domain] ?? [];
}

export function termLabel(domain: string, code: string | null | undefined): string {
  if (!code) return "";
  return terms(domain).find((t) => t.code === code)?.label ?? code;
}

export function isOpenCode(domain: string, code: string): boolean {
  return (current.open[domain] ?? []).includes(code);
}
