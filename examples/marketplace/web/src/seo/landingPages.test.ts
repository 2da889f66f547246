// Tests for WBS-008 landing pages: NT-0281, TD-0282.
import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalUrl, landingPath, shouldIndex } from "./landingPages.ts";

test("paths and canonical URLs", () => {
  const page = { city: "São Paulo", studioType: "Photo studio", listingCount: 4 };
  assert.equal(landingPath(page), "/studios/sao-paulo/photo-studio");
  assert.equal(canonicalUrl("https://studios.example", "/studios/berlin/podcast?gear=u87#map"), "https://studios.example/studios/berlin/podcast");
  assert.equal(shouldIndex(page), false);
});
