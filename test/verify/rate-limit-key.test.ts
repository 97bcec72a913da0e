import { describe, expect, it } from "vitest";
import { rateLimitKey } from "../../src/verify/rate-limit-key";

describe("rateLimitKeyPerSlash64 (ATTACKS #22)", () => {
  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::ffff:c000:201", "192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
  ])("%s → %s", (ip, key) => {
    expect(rateLimitKey(ip)).toBe(key);
  });

  it("keys two addresses of one /64 alike, and of neighbouring /64s apart", () => {
    expect(rateLimitKey("2001:db8:a:b::1")).toBe(rateLimitKey("2001:db8:a:b:ffff::2"));
    expect(rateLimitKey("2001:db8:a:b::1")).not.toBe(rateLimitKey("2001:db8:a:c::1"));
    expect(rateLimitKey("192.0.2.1")).not.toBe(rateLimitKey("192.0.2.2"));
  });

  it.each([[undefined], [""], ["not an ip"], ["1:2:3:4:5:6:7:8:9"], ["1::2::3"], ["2001:db8:zzzz::1"], ["256.1.1.1"], ["1.2.3"]])(
    "puts %s under one shared key, so malformed values mint no budgets",
    (ip) => {
      expect(rateLimitKey(ip)).toBe("unknown");
    },
  );
});
