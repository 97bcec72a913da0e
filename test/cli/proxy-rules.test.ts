import { describe, expect, it } from "vitest";
import type { GateToken } from "../../src/client/token";
import { loopbackAddress, ownAddresses, PROXY_TOKEN_REUSE_MS, proxyRefusal, TokenSource } from "../../src/cli/proxy-rules";
import { clock } from "../support/clock";

/**
 * The rules of `sts-gate proxy` (issue 22, ATTACKS #29) as pure functions; the proxy itself,
 * against the gate in workerd: test/cli/proxy.test.ts (project node).
 */
describe("proxyLoopbackOnly", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.1.2.3", "127.1.2.3"],
    ["localhost", "127.0.0.1"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
  ])("listens on %s as %s", (host, address) => {
    expect(loopbackAddress(host)).toBe(address);
  });

  it.each(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "127.0.0.256", "127.0.0.1.nip.io", "example.com", "LOCALHOST.example", "::2", "", "128.0.0.1"])(
    "refuses %j",
    (host) => {
      expect(loopbackAddress(host)).toBeUndefined();
    },
  );
});

describe("proxyHostCheck and proxyOriginCheck", () => {
  const own = ownAddresses("127.0.0.1", 8181);
  const allow = ["http://app.localhost:3000"];
  const check = (headers: { host?: string; origin?: string }) => proxyRefusal(headers, own, allow)?.code;

  it("forwards its own Host, any case, with its port", () => {
    expect(check({ host: "127.0.0.1:8181" })).toBeUndefined();
    expect(check({ host: "localhost:8181" })).toBeUndefined();
    expect(check({ host: "LocalHost:8181" })).toBeUndefined();
  });

  it.each([undefined, "", "evil.example", "evil.example:8181", "127.0.0.1", "127.0.0.1:8182", "localhost", "[::1]:8181", "127.0.0.2:8181"])(
    "refuses Host %j (DNS rebinding)",
    (host) => {
      expect(check({ host })).toBe("proxy_host_refused");
    },
  );

  it("forwards a request without Origin, from its own origin, or from an --allow-origin origin", () => {
    for (const origin of [undefined, "http://127.0.0.1:8181", "http://localhost:8181", "http://app.localhost:3000"]) {
      expect(check({ host: "127.0.0.1:8181", origin }), origin).toBeUndefined();
    }
  });

  it.each(["https://evil.example", "null", "http://127.0.0.1:8182", "https://127.0.0.1:8181", "https://app.localhost:3000", "http://app.localhost:3000/", ""])(
    "refuses Origin %j (a web page on another site)",
    (origin) => {
      expect(check({ host: "127.0.0.1:8181", origin })).toBe("proxy_origin_refused");
    },
  );

  it("names the IPv6 loopback in brackets", () => {
    const v6 = ownAddresses("::1", 9000);
    expect(proxyRefusal({ host: "[::1]:9000", origin: "http://[::1]:9000" }, v6, [])).toBeUndefined();
    // A cross-site GET from an <img> or a link carries no Origin, only Sec-Fetch-Site.
    expect(proxyRefusal({ host: "[::1]:9000", "sec-fetch-site": "cross-site" }, v6, [])?.code).toBe("proxy_origin_refused");
    expect(proxyRefusal({ host: "[::1]:9000", "sec-fetch-site": "same-site" }, v6, [])?.code).toBe("proxy_origin_refused");
    expect(proxyRefusal({ host: "[::1]:9000", "sec-fetch-site": "none" }, v6, [])).toBeUndefined();
    expect(proxyRefusal({ host: "[::1]:9000", "sec-fetch-site": "same-origin" }, v6, [])).toBeUndefined();
    expect(proxyRefusal({ host: "::1:9000" }, v6, [])?.code).toBe("proxy_host_refused");
  });
});

describe("proxyTokenReuse", () => {
  function source(expiresInMs = 14 * 60_000) {
    const time = clock(1_000_000);
    let minted = 0;
    const tokens = new TokenSource(async () => {
      minted++;
      return { token: `k8s-aws-v1.t${minted}`, expiresAt: new Date(time.now() + expiresInMs) } satisfies GateToken;
    }, time.now);
    return { tokens, minted: () => minted, advance: time.advance };
  }

  it("reuses one token, then mints a fresh one before the old one is 5 minutes old", async () => {
    const s = source();
    expect((await s.tokens.get()).token).toBe("k8s-aws-v1.t1");
    s.advance(PROXY_TOKEN_REUSE_MS - 1);
    expect((await s.tokens.get()).token).toBe("k8s-aws-v1.t1");
    s.advance(1);
    expect((await s.tokens.get()).token).toBe("k8s-aws-v1.t2");
    expect(PROXY_TOKEN_REUSE_MS).toBeLessThan(5 * 60_000);
  });

  it("shares one mint among concurrent requests", async () => {
    const s = source();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => s.tokens.get()));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(s.minted()).toBe(1);
  });

  it("mints sooner when the credentials expire sooner: a minute before", async () => {
    const s = source(2 * 60_000);
    await s.tokens.get();
    s.advance(60_000 - 1);
    expect((await s.tokens.get()).token).toBe("k8s-aws-v1.t1");
    s.advance(1);
    expect((await s.tokens.get()).token).toBe("k8s-aws-v1.t2");
  });
});
