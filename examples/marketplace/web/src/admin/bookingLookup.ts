// Admin console: booking lookup for support agents. Implements WBS-017.
// NT-0241 lookup by reference, email or phone; TD-0241 role checks.

export type AdminRole = "support" | "finance" | "trust" | "superadmin";

export type LookupKey =
  | { kind: "reference"; value: string }
  | { kind: "email"; value: string }
  | { kind: "phone"; value: string };

/** NT-0241: decide what the agent typed into the single search box. */
export function parseLookup(input: string): LookupKey {
  const value = input.trim();
  if (/^BK-[A-Z0-9]{4,8}$/i.test(value)) return { kind: "reference", value: value.toUpperCase() };
  if (value.includes("@")) return { kind: "email", value: value.toLowerCase() };
  return { kind: "phone", value: value.replace(/[^\d+]/g, "") };
}

/** TD-0241: refunds above 300 EUR need a second approver from finance. */
export function canIssueRefund(role: AdminRole, amountMinor: number, secondApprover?: AdminRole): boolean {
  if (role !== "support" && role !== "finance" && role !== "superadmin") return false;
  if (amountMinor <= 30_000) return true;
  return secondApprover === "finance" || secondApprover === "superadmin";
}
