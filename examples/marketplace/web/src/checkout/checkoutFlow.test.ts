// Tests for WBS-009 checkout flow: NT-0082, NT-0081, TD-0081.
import { test } from "node:test";
import assert from "node:assert/strict";
import { holdSecondsLeft, nextStep, submitLabel } from "./checkoutFlow.ts";

test("three steps in order (NT-0082)", () => {
  assert.equal(nextStep("time_and_addons"), "details");
  assert.equal(nextStep("details"), "payment");
  assert.equal(nextStep("payment"), null);
});

test("labels differ by booking mode (NT-0081)", () => {
  assert.match(submitLabel(false), /only if the host accepts/);
  assert.equal(submitLabel(true), "Book and pay");
});

test("hold countdown (TD-0081)", () => {
  assert.equal(holdSecondsLeft(0, 60_000), 840);
  assert.equal(holdSecondsLeft(0, 16 * 60_000), 0);
});
