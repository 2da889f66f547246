// Search client for the results page. Implements WBS-006.
// NT-0041 query building, NT-0044 empty-result suggestions, NT-0042 price pins.

export interface SearchInput {
  city: string;
  date?: string; // YYYY-MM-DD
  gear: string[];
  text?: string;
}

/** NT-0041: the query string sent to the search service. */
export function buildQuery(input: SearchInput): string {
  const parts = [`city:${input.city.trim().toLowerCase()}`];
  if (input.text) parts.push(input.text.trim());
  for (const g of input.gear) parts.push(`gear:${g.replace(/\s+/g, "")}`);
  const params = new URLSearchParams({ q: parts.join(" ") });
  if (input.date) params.set("date", input.date);
  return `/api/search?${params.toString()}`;
}

/** NT-0044: what to offer when nothing matched. */
export function emptySuggestions(input: SearchInput, nearbyCities: string[]): string[] {
  const suggestions: string[] = [];
  if (input.gear.length > 0) suggestions.push("Remove a gear filter");
  if (input.date) suggestions.push("Try flexible dates");
  for (const city of nearbyCities.slice(0, 2)) suggestions.push(`Search in ${city}`);
  return suggestions;
}

/** NT-0042: compact price label for a map pin, e.g. "€45". */
export function pinLabel(hourlyRateMinor: number, currency: string): string {
  const symbol = currency === "EUR" ? "€" : currency === "GBP" ? "£" : `${currency} `;
  return `${symbol}${Math.round(hourlyRateMinor / 100)}`;
}
