// Tests for WBS-006 search client: NT-0041, NT-0044, NT-0042.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildQuery, emptySuggestions, pinLabel } from "./searchClient.ts";

test("query carries city, gear and date (NT-0041)", () => {
  const url = new URL(buildQuery({ city: " Berlin ", gear: ["Neumann U87"], date: "2026-11-24" }), "https://x.example");
  assert.equal(url.searchParams.get("q"), "city:berlin gear:NeumannU87");
  assert.equal(url.searchParams.get("date"), "2026-11-24");
});

test("empty results suggest ways out (NT-0044)", () => {
  const tips = emptySuggestions({ city: "berlin", gear: ["plate reverb"], date: "2026-11-24" }, ["Potsdam", "Leipzig", "Halle"]);
  assert.deepEqual(tips, ["Remove a gear filter", "Try flexible dates", "Search in Potsdam", "Search in Leipzig"]);
});

test("map pins show rounded prices (NT-0042)", () => {
  assert.equal(pinLabel(4550, "EUR"), "€46");
  assert.equal(pinLabel(3000, "USD"), "USD 30");
});
