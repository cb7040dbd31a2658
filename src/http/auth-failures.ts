// Failed authentication, counted per client address: after `max` failures in a window, further failures
// from that address are answered 429 with Retry-After instead of 401 until the window ends. Only failures
// are counted and only failures are refused, so a request with a valid token always goes through, even
// from an address that is being refused. Kept in memory per process: with N processes an address gets up
// to N × max attempts per window, still enough to stop guessing tokens (they carry 256 bits).

export interface AuthFailureLimit {
  /** Failures allowed per address and window; 0 turns the limit off. */
  max: number;
  windowMs: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { max: 20, windowMs: 60_000 };

/** Addresses remembered at most; beyond it expired entries go first, then the oldest. */
const MAX_TRACKED = 100_000;

export class AuthFailureLimiter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: AuthFailureLimit = DEFAULT_AUTH_FAILURE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a failed authentication from `address`. Returns null when it is within the limit (answer 401),
   * or the seconds until the address may try again (answer 429).
   */
  fail(address: string): number | null {
    if (this.limit.max <= 0) return null;
    const now = this.now();
    let entry = this.entries.get(address);
    if (!entry || entry.resetAt <= now) {
      if (entry) this.entries.delete(address);
      else if (this.entries.size >= MAX_TRACKED) this.prune(now);
      entry = { count: 0, resetAt: now + this.limit.windowMs };
      this.entries.set(address, entry);
    }
    if (entry.count >= this.limit.max) return Math.max(1, Math.ceil((entry.resetAt - now) / 1000));
    entry.count++;
    return null;
  }

  private prune(now: number): void {
    for (const [address, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(address);
    for (const address of this.entries.keys()) {
      if (this.entries.size < MAX_TRACKED) break;
      this.entries.delete(address);
    }
  }
}

export function tooManyFailuresMessage(seconds: number): string {
  return `too many failed authentication attempts from this address; try again in ${seconds} s`;
}
