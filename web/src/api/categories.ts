// The reportable categories (Open311 service codes), fetched once.

import { api } from "./client";
import { termLabel } from "./vocabulary";

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
  return termLabel("category", code);
}
