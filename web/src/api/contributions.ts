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
  comments?: number;
  answer: Answer | null;
  visibility?: string;
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
  created_at: string;
  replies?: CommentItem[];
}

export interface VoteResult {
  votes_for: number;
  votes_against: number;
}
