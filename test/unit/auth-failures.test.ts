import { describe, expect, it } from "vitest";
import { AuthFailureLimiter } from "../../src/http/auth-failures.js";

describe("AuthFailureLimiter", () => {
  it("allows max failures per address and window, then says how long to wait; the window ends", () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter({ max: 3, windowMs: 60_000 }, () => now);
    expect([limiter.fail("a"), limiter.fail("a"), limiter.fail("a")]).toEqual([null, null, null]);
    expect(limiter.fail("a")).toBe(60);
    expect(limiter.fail("b")).toBeNull();
    now += 45_500;
    expect(limiter.fail("a")).toBe(15);
    now += 14_500;
    expect(limiter.fail("a")).toBeNull();
  });

  it("is off with max 0", () => {
    const limiter = new AuthFailureLimiter({ max: 0, windowMs: 60_000 });
    for (let i = 0; i < 100; i++) expect(limiter.fail("a")).toBeNull();
  });
});
