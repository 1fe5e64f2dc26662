// Contributions to a concertation: the types the API returns and their loader.

import { api, itemsOf } from "./client";
import type { Concertation } from "./concertations";

export interface Answer {
  status: string;
  label: string;
  text: string;
  authority?: string | null;
  answered_at?: string;
}

export interface ContributionProps {
  concertation: string;
  theme: string;
  theme_label?: string;
  theme_color?: string;
  kind: string;
  kind_label?: string;
  title: string | null;
  body: string | null;
  author?: string;
  votes_for: number;
  votes_against: number;
  supports?: number;
  comments?: number;
  answer: Answer | null;
  visibility?: string;
  moderation_reason?: string | null;
  photo_url?: string | null;
  photo_thumbnail_url?: string | null;
  photo_id?: string | null;
  created_at?: string;
}

export interface Contribution {
  type: "Feature";
  id: number;
  geometry: GeoJSON.Geometry | null;
  properties: ContributionProps;
}

export async function loadContributions(c: Concertation): Promise<Contribution[]> {
  return itemsOf<Contribution>(await api(`/api/v1/concertations/${c.id}/contributions`, { query: { limit: 1000 } }));
}

export interface CommentItem {
  id: number;
  author: string;
  body: string | null;
  visibility?: string;
  moderation_reason?: string | null;
  created_at: string;
  replies?: CommentItem[];
}

/** The list's server-side query: text search, theme, kind, answered only, order, page. */
export interface ContributionQuery {
  q?: string;
  theme?: string;
  kind?: string;
  sort?: "newest" | "supported" | "answered" | "oldest";
  limit?: number;
  offset?: number;
}

export interface ContributionPage {
  features: Contribution[];
  number_matched: number;
}

export async function searchContributions(c: Concertation, query: ContributionQuery): Promise<ContributionPage> {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q[k] = String(v);
  return api<ContributionPage>(`/api/v1/concertations/${c.id}/contributions`, { query: q });
}

export async function loadContribution(id: number): Promise<Contribution> {
  return api<Contribution>(`/api/v1/contributions/${id}`);
}

/** What the signed-in caller did here: votes by contribution id, supports, own contributions. */
export interface Mine {
  votes: Record<string, number>;
  supports: number[];
  contributions: number[];
}

export const NOBODY: Mine = { votes: {}, supports: [], contributions: [] };

export async function loadMine(c: Concertation, signedIn: boolean): Promise<Mine> {
  if (!signedIn) return NOBODY;
  return api<Mine>(`/api/v1/concertations/${c.id}/mine`).catch(() => NOBODY);
}

export interface VoteResult {
  votes_for: number;
  votes_against: number;
}

/** What a citizen draws and writes: a GeoJSON Feature (properties: title, body, theme, kind). */
export interface ContributionCreate {
  type: "Feature";
  geometry: GeoJSON.Geometry;
  properties: { title: string; body: string; theme: string; kind: string };
}

export async function createContribution(c: Concertation, feature: ContributionCreate): Promise<Contribution> {
  return api<Contribution>(`/api/v1/concertations/${c.id}/contributions`, { method: "POST", json: feature });
}

/** One vote per participant and contribution (a second one replaces the first). */
export async function castVote(contributionId: number, value: 1 | -1): Promise<VoteResult> {
  return api<VoteResult>(`/api/v1/contributions/${contributionId}/votes`, { method: "POST", json: { value } });
}

/** The organisers' official answer (created or replaced). */
export async function answerContribution(contributionId: number, answer: { status: string; text: string }): Promise<Answer> {
  return api<Answer>(`/api/v1/contributions/${contributionId}/answer`, { method: "PUT", json: answer });
}

/** « Signaler un abus » on a contribution. */
export async function reportContribution(contributionId: number, reason: string): Promise<void> {
  await api(`/api/v1/contributions/${contributionId}/reports`, { method: "POST", json: { reason } });
}

export async function loadComments(contributionId: number): Promise<CommentItem[]> {
  return itemsOf<CommentItem>(await api(`/api/v1/contributions/${contributionId}/comments`));
}

export async function postComment(contributionId: number, body: string): Promise<CommentItem> {
  return api<CommentItem>(`/api/v1/contributions/${contributionId}/comments`, { method: "POST", json: { body } });
}

/** « Signaler un abus » on a comment. */
export async function reportComment(commentId: number, reason: string): Promise<void> {
  await api(`/api/v1/comments/${commentId}/reports`, { method: "POST", json: { reason } });
}
