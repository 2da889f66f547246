// City landing pages. Implements WBS-008.
// NT-0281 city and studio-type pages, TD-0282 canonical URLs and indexing.

export interface LandingPage {
  city: string;
  studioType: string;
  listingCount: number;
}

function slug(text: string): string {
  return text.trim().toLowerCase().normalize("NFKD").replace(/[^\w\s-]/g, "").replace(/[\s_]+/g, "-");
}

/** NT-0281: /studios/berlin/recording-studio */
export function landingPath(page: LandingPage): string {
  return `/studios/${slug(page.city)}/${slug(page.studioType)}`;
}

/** TD-0282: canonical URLs never carry filter parameters. */
export function canonicalUrl(origin: string, path: string): string {
  const url = new URL(path, origin);
  url.search = "";
  url.hash = "";
  return url.toString();
}

export function shouldIndex(page: LandingPage): boolean {
  return page.listingCount >= 5;
}
