// Tests for WBS-005 listing API helpers: NT-0061, NT-0062.
import { test } from "node:test";
import assert from "node:assert/strict";
import { coverPhoto, createDraft, missingPhotos, type StudioSummary } from "./listingApi.ts";

const studio: StudioSummary = {
  id: "lst_00001",
  title: "Live room",
  city: "Berlin",
  hourlyRateMinor: 4500,
  currency: "EUR",
  photos: ["a.jpg"],
};

test("photo rules (NT-0062)", () => {
  assert.equal(coverPhoto(studio), "a.jpg");
  assert.equal(missingPhotos(studio), 2);
});

test("draft creation posts title and city (NT-0061)", async () => {
  let sent: unknown;
  const fetcher = async (_path: string, init?: RequestInit) => {
    sent = JSON.parse(String(init?.body));
    return new Response(JSON.stringify(studio), { status: 201 });
  };
  const created = await createDraft(fetcher, { title: "  Live room ", city: "Berlin" });
  assert.deepEqual(sent, { title: "Live room", city: "Berlin" });
  assert.equal(created.id, "lst_00001");
});
