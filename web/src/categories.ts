// The reportable categories (Open311 service codes), fetched once.

import { api } from "./api";

export interface Category {
  code: string;
  label: string;
  description: string;
  icon: string;
  group: string;
  due_days: number;
}

let cache: Promise<Category[]> | null = null;

export function categories(): Promise<Category[]> {
  cache ??= api<Category[]>("/api/v1/categories").catch((err) => {
    cache = null;
    throw err;
  });
  return cache;
}

export async function categoryLabel(code: string | null | undefined): Promise<string> {
  if (!code) return "";
  const all = await categories().catch(() => [] as Category[]);
  return all.find((c) => c.code === code)?.label ?? code;
}

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
