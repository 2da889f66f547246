// Inbox thread list and live updates. Implements WBS-012.
// NT-0141 inbox ordering and badges, TD-0143 WebSocket reconnects.

export interface ThreadPreview {
  id: string;
  counterpart: string;
  listingTitle: string;
  bookingReference?: string;
  lastMessageAt: number;
  unread: number;
}

/** NT-0141: threads with a booking first when equally recent, newest first. */
export function sortThreads(threads: ThreadPreview[]): ThreadPreview[] {
  return [...threads].sort(
    (a, b) => b.lastMessageAt - a.lastMessageAt || Number(!!b.bookingReference) - Number(!!a.bookingReference),
  );
}

export function unreadBadge(threads: ThreadPreview[]): string {
  const total = threads.reduce((sum, t) => sum + t.unread, 0);
  return total > 99 ? "99+" : total > 0 ? String(total) : "";
}

/** TD-0143: exponential backoff with a ceiling, so a restart does not stampede the server. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attempt));
}
