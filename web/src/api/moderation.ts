// The moderation queue of contributions and comments.

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
