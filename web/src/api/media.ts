// Photos uploaded before a report or a contribution refers to them.

import { api } from "./client";

export interface PhotoRef {
  id: string;
  url: string;
  thumbnail_url?: string;
}

export async function uploadPhoto(file: File): Promise<PhotoRef> {
  const form = new FormData();
  form.append("file", file);
  return api<PhotoRef>("/api/v1/media", { method: "POST", form });
}
