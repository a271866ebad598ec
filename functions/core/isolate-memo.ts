/**
 * What this isolate remembers for a short while, to save a round trip it would otherwise repeat on
 * every request. Another isolate keeps its own, so a memo never decides anything alone: the shared
 * store (Redis, Postgres) stays the authority, and `ttlMs` bounds how stale an answer can be.
 */
export class IsolateMemo<T> {
  private readonly entries = new Map<string, { value: T; atMs: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(ttlMs: number, maxEntries = 10_000) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  get(key: string, nowMs: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // A clock that went back counts as expired too.
    if (nowMs - entry.atMs >= this.ttlMs || nowMs < entry.atMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, nowMs: number): void {
    // Bounded without bookkeeping: a full memo starts over, which only costs round trips.
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.clear();
    this.entries.set(key, { value, atMs: nowMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** True the first time `key` is seen within the window: for "at most once per window" writes. */
  firstInWindow(key: string, nowMs: number): boolean {
    if (this.get(key, nowMs) !== undefined) return false;
    this.set(key, true as T, nowMs);
    return true;
  }
}
