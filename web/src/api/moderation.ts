// The moderation queue of contributions and comments, and the moderators' actions.

import { api } from "./client";


export interface ModerationItem {
  target: "contribution" | "comment";
  id: number;
  contribution_id: number;
  concertation: string;
  title: string | null;
  body: string;
  author: string;
  visibility: "published" | "held" | "hidden";
  hold_reason: string | null;
  flags: string[];
  flag_labels: string[];
  reports: number;
  report_reasons: string[];
  created_at: string;
}

export interface ModerationQueue {
  held: ModerationItem[];
  reported: ModerationItem[];
  flagged: ModerationItem[];
}

export type ModerationAction = "hide" | "restore" | "release" | "clear_flags";

export async function loadModerationQueue(concertationId: string | null): Promise<ModerationQueue> {
  return api<ModerationQueue>("/api/v1/moderation/queue", { query: { concertation_id: concertationId } });
}

/** Act on a contribution or a comment; the reason is public (it replaces a hidden text). */
export async function moderate(target: ModerationItem["target"], id: number, action: ModerationAction, reason: string): Promise<void> {
  const path = target === "contribution" ? `/api/v1/contributions/${id}/moderation` : `/api/v1/comments/${id}/moderation`;
  await api(path, { method: "POST", json: { action, reason } });
}
