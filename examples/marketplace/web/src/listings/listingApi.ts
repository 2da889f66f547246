// Listing editor API calls. Implements WBS-005 (NT-0061, NT-0062).
import { postJson, type Fetcher } from "../lib/api.ts";

export interface StudioSummary {
  id: string;
  title: string;
  city: string;
  hourlyRateMinor: number;
  dayRateMinor?: number;
  currency: string;
  photos: string[];
}

export interface DraftInput {
  title: string;
  city: string;
}

/** NT-0061: the first step only needs a title and a city. */
export function createDraft(fetcher: Fetcher, input: DraftInput): Promise<StudioSummary> {
  return postJson<StudioSummary>(fetcher, "/api/listings", { title: input.title.trim(), city: input.city });
}

/** NT-0062: the cover is the first photo; at least three are needed to publish. */
export function coverPhoto(studio: StudioSummary): string | undefined {
  return studio.photos[0];
}

export function missingPhotos(studio: StudioSummary): number {
  return Math.max(0, 3 - studio.photos.length);
}
