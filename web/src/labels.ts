// French labels and colours of the lifecycle states, kinds and statuses.

export const STATE_LABELS: Record<string, string> = {
  new: "Nouveau",
  submitted: "Reçu",
  routed: "Transmis au service",
  open: "Ouvert",
  acknowledged: "Pris en compte",
  in_progress: "En cours de traitement",
  resolved: "Résolu",
  rejected: "Rejeté",
  reopened: "Rouvert",
  closed: "Clos",
  merged: "Fusionné",
  duplicate: "Doublon",
  transferred: "Transféré",
};

export const STATE_COLORS: Record<string, string> = {
  new: "#c2410c",
  submitted: "#c2410c",
  routed: "#c2410c",
  reopened: "#b91c1c",
  acknowledged: "#a16207",
  in_progress: "#1d4ed8",
  resolved: "#15803d",
  rejected: "#4b5563",
  merged: "#6b7280",
  duplicate: "#6b7280",
};

/** Transitions an agent may ask for; the server decides which are allowed (409 otherwise). */
export const TRANSITIONS: { to: string; label: string }[] = [
  { to: "acknowledged", label: "Prendre en compte" },
  { to: "in_progress", label: "Démarrer le traitement" },
  { to: "resolved", label: "Marquer comme résolu" },
  { to: "rejected", label: "Rejeter (motif obligatoire)" },
  { to: "reopened", label: "Rouvrir" },
];

export const KIND_LABELS: Record<string, string> = {
  proposition: "Proposition",
  constat: "Constat",
  question: "Question",
};

/** The official answers' decisions (the server's ANSWER_LABELS). */
export const ANSWER_LABELS: Record<string, string> = {
  retenue: "Retenue",
  a_l_etude: "À l'étude",
  non_retenue: "Non retenue",
  hors_sujet: "Hors sujet",
  hors_competence: "Pas de notre compétence",
};

export const CONCERTATION_STATUS: Record<string, string> = {
  draft: "En préparation",
  open: "Ouverte",
  closed: "Close",
  archived: "Archivée",
};

export function stateLabel(state: string | null | undefined): string {
  return state ? STATE_LABELS[state] ?? state : "";
}

export const OPEN_STATES = ["submitted", "routed", "acknowledged", "in_progress", "reopened"];
