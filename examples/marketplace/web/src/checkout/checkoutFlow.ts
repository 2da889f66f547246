// Checkout flow on the web. Implements WBS-009.
// NT-0082 three steps, NT-0081 instant vs request, TD-0081 hold countdown.

export type Step = "time_and_addons" | "details" | "payment";
export const STEPS: readonly Step[] = ["time_and_addons", "details", "payment"];

export function nextStep(current: Step): Step | null {
  const i = STEPS.indexOf(current);
  return i >= 0 && i < STEPS.length - 1 ? STEPS[i + 1] : null;
}

/** NT-0081: the button label tells the guest whether they are charged now. */
export function submitLabel(instantBook: boolean): string {
  return instantBook ? "Book and pay" : "Request to book (you are charged only if the host accepts)";
}

/** TD-0081: seconds left on the 15-minute hold, never negative. */
export function holdSecondsLeft(heldAtMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((heldAtMs + 15 * 60 * 1000 - nowMs) / 1000));
}
