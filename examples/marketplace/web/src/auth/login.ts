// Signup and login forms. Implements WBS-002.
// NT-0001 signup rules, TD-0003 Google sign-in with PKCE.

export interface SignupForm {
  email: string;
  passphrase: string;
  role: "guest" | "host";
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** NT-0001: the same rules as services/auth/passwords.py, checked before submit. */
export function signupErrors(form: SignupForm): string[] {
  const errors: string[] = [];
  if (!EMAIL.test(form.email)) errors.push("Enter a valid email address.");
  if (form.passphrase.length < 10) errors.push("Use at least 10 characters.");
  const local = form.email.split("@")[0]?.toLowerCase() ?? "";
  if (local.length >= 3 && form.passphrase.toLowerCase().includes(local)) {
    errors.push("Do not include your email address.");
  }
  return errors;
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** TD-0003: S256 code challenge for a verifier kept in session storage. */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export async function googleAuthUrl(clientId: string, redirectUri: string, verifier: string, state: string): Promise<string> {
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email profile",
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
    state,
  });
  return `https://accounts.google.com/o/oauth2/v2/auth?${params.toString()}`;
}
