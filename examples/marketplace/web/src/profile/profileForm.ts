// Profile editing form. Implements WBS-003.
// TD-0021 handle rules (mirrors services/profiles/profile.py), NT-0022 portfolio links.

const HANDLE = /^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$/;
const MAX_PORTFOLIO_LINKS = 5;

export function handleError(raw: string): string | null {
  const handle = raw.trim().toLowerCase();
  if (!HANDLE.test(handle) || handle.includes("--")) {
    return "Handles use 3-30 lowercase letters, digits and single hyphens.";
  }
  return null;
}

/** NT-0022: keep https links, drop duplicates, cap at five. */
export function normalizePortfolio(links: string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const link of links.map((l) => l.trim())) {
    if (!link.startsWith("https://") || seen.has(link)) continue;
    seen.add(link);
    result.push(link);
    if (result.length === MAX_PORTFOLIO_LINKS) break;
  }
  return result;
}
