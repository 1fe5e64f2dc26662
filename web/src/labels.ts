// How the server's codes are shown: their French labels come from the vocabulary the
// server serves (api/vocabulary); only colours, which are presentation, live here.

import { terms, termLabel } from "./api/vocabulary";

export function capitalize(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** A lifecycle state as a badge shows it ("Pris en compte"). */
export function stateLabel(state: string | null | undefined): string {
  return capitalize(termLabel("signalement_state", state));
}

/** [code, label] of every lifecycle state, in the server's order. */
export function stateOptions(): [string, string][] {
  return terms("signalement_state").map((t) => [t.code, capitalize(t.label)]);
}

/** Transitions an agent may ask for; the server decides which are allowed (409 otherwise). */
export function transitions(): { to: string; label: string }[] {
  return terms("signalement_action").map((t) => ({ to: t.code, label: t.label }));
}

export const kindLabel = (code: string | null | undefined): string => termLabel("contribution_kind", code);

/** [code, label] of the official answers' decisions. */
export function answerOptions(): [string, string][] {
  return terms("answer_status").map((t) => [t.code, t.label]);
}

/** [code, label] of the kinds of concertation. */
export function concertationKindOptions(): [string, string][] {
  return terms("concertation_kind").map((t) => [t.code, t.label]);
}

export const STATE_COLORS: Record<string, string> = {
  submitted: "#c2410c",
  routed: "#c2410c",
  reopened: "#b91c1c",
  acknowledged: "#a16207",
  in_progress: "#1d4ed8",
  resolved: "#15803d",
  rejected: "#4b5563",
  duplicate: "#6b7280",
};

/** A distinct colour per category, for the map and legends (fixed order, AA on white). */
export const CATEGORY_COLORS: Record<string, string> = {
  voirie: "#7c3aed",
  dechets: "#0f766e",
  proprete: "#b45309",
  eclairage: "#a16207",
  "espaces-verts": "#15803d",
  mobilier: "#be185d",
};

export function categoryColor(code: string): string {
  return CATEGORY_COLORS[code] ?? "#1d4f91";
}
