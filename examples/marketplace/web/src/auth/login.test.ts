// Tests for WBS-002 web login: NT-0001, TD-0003.
import { test } from "node:test";
import assert from "node:assert/strict";
import { codeChallenge, googleAuthUrl, signupErrors } from "./login.ts";

test("signup rules match the backend (NT-0001)", () => {
  assert.deepEqual(signupErrors({ email: "mara@example.com", passphrase: "late night mixing", role: "guest" }), []);
  assert.equal(signupErrors({ email: "mara@example.com", passphrase: "mara-2026-x", role: "host" }).length, 1);
  assert.equal(signupErrors({ email: "nope", passphrase: "short", role: "guest" }).length, 2);
});

test("PKCE challenge follows RFC 7636 (TD-0003)", async () => {
  const challenge = await codeChallenge("studio-verifier-".repeat(3));
  assert.equal(challenge.length, 43);
  assert.match(challenge, /^[A-Za-z0-9_-]+$/);
  const url = new URL(await googleAuthUrl("client-123", "https://app.example/cb", "v".repeat(43), "st"));
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.equal(url.searchParams.get("state"), "st");
});
