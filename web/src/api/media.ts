// Photos uploaded before a report or a contribution refers to them.

export interface PhotoRef {
  id: string;
  url: string;
  thumbnail_url?: string;
}
