/** The credential of an `Authorization: Bearer <credential>` header; null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;
}
