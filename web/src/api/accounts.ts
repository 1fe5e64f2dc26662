// The signed-in administrator's authorities.

import { api, itemsOf } from "./client";

export interface AuthorityRef {
  id: number;
  slug: string;
  name: string;
  kind: string;
  code: string;
}

export async function myAuthorities(): Promise<AuthorityRef[]> {
  return itemsOf<AuthorityRef>(await api("/api/v1/admin/authorities"));
}
