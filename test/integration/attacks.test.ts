import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createGateApp } from "../../src/gate/dispatch";
import { through, type Problem } from "../support/gate";
import { emulatorAt, stsCallsFor } from "../support/emulator";
import { bearer, encodeToken, mintToken, presignUrl, uniqueExpires, uniqueSigningTime } from "../support/tokens";

/**
 * One block per row of SECURITY.md's attack table that the gate itself stops. Every case goes
 * through the Worker, asserts the rule's own code, and asserts that the token never reached
 * STS (the emulator counts requests by signature).
 */

async function send(token: string, init: RequestInit = {}): Promise<{ res: Response; body: Problem }> {
  const res = await exports.default.fetch("https://localhost/resource", {
    ...init,
    headers: { ...bearer(token), ...(init.headers as Record<string, string> | undefined) },
  });
  return { res, body: (await res.json()) as Problem };
}

async function expectRefusedLocally(token: string, code: string): Promise<void> {
  const { res, body } = await send(token);
  expect(body.code).toBe(code);
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.headers.get("www-authenticate")).toContain('Bearer error="invalid_token"');
  expect(await stsCallsFor(token)).toBe(0);
}

/** A fresh, valid aws4fetch URL for alice with one textual change applied. */
async function tampered(change: (url: string) => string, name = "alice"): Promise<string> {
  const url = await presignUrl(name, { at: uniqueSigningTime() });
  const changed = change(url);
  expect(changed).not.toBe(url);
  return encodeToken(changed);
}

describe("#1 the caller chooses where the gate sends the token", () => {
  it.each([
    ["another host", (u: string) => u.replace("sts.us-east-1.amazonaws.com", "evil.example"), "sts_host_unknown"],
    ["an STS host as a prefix", (u: string) => u.replace("amazonaws.com/", "amazonaws.com.evil.example/"), "sts_host_unknown"],
    ["userinfo", (u: string) => u.replace("https://sts.us-east-1.amazonaws.com", "https://sts.us-east-1.amazonaws.com@evil.example"), "token_url_userinfo"],
    ["a made-up region", (u: string) => u.replace("us-east-1.amazonaws", "us-middle-7.amazonaws"), "sts_host_unknown"],
    ["the lax regex's hole", (u: string) => u.replace("sts.us-east-1.amazonaws.com", "sts.1.amazonaws.com"), "sts_host_unknown"],
    ["a port", (u: string) => u.replace("amazonaws.com/", "amazonaws.com:443/"), "token_url_port"],
    ["plain http", (u: string) => u.replace("https://", "http://"), "token_url_scheme"],
    ["another path", (u: string) => u.replace("amazonaws.com/?", "amazonaws.com/evil?"), "token_url_path"],
    ["an uppercase host", (u: string) => u.replace("sts.us-east-1", "STS.us-east-1"), "sts_host_unknown"],
    ["a trailing dot", (u: string) => u.replace("amazonaws.com/", "amazonaws.com./"), "sts_host_unknown"],
    ["a backslash", (u: string) => u.replace("amazonaws.com/", "amazonaws.com\\@evil.example/"), "token_url_userinfo"],
  ])("refuses %s", async (_name, change, code) => {
    await expectRefusedLocally(await tampered(change), code);
  });

  it("rebuilds the upstream URL from the table rather than copying the token's text", async () => {
    const now = Date.now();
    const sts = emulatorAt(now);
    // Lowercase percent-escapes are valid, but the gate sends its own canonical encoding.
    const url = (await presignUrl("alice", { at: uniqueSigningTime(), expires: await uniqueExpires() })).replace(/%2F/g, "%2f");
    const res = await through(createGateApp({ now: () => now }), { ...env, STS: sts.binding }, new Request("https://localhost/", { headers: bearer(encodeToken(url)) }));
    expect(res.status).toBe(200);
    expect(sts.requests).toHaveLength(1);
    const upstream = sts.requests[0]!.url;
    expect(upstream.startsWith("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&")).toBe(true);
    expect(upstream).not.toContain("%2f");
    expect(upstream).toContain("%2F");
  });
});

describe("#2 the caller makes STS run another action", () => {
  it.each([
    ["GetSessionToken", (u: string) => u.replace("Action=GetCallerIdentity", "Action=GetSessionToken"), "action_invalid"],
    ["AssumeRole", (u: string) => u.replace("Action=GetCallerIdentity", "Action=AssumeRole"), "action_invalid"],
    ["another API version", (u: string) => u.replace("Version=2011-06-15", "Version=2011-06-16"), "version_invalid"],
    ["an extra STS parameter", (u: string) => u.replace("?Action=", "?RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&Action="), "query_unknown_parameter"],
    ["no Action at all", (u: string) => u.replace("Action=GetCallerIdentity&", ""), "parameter_missing"],
  ])("refuses %s", async (_name, change, code) => {
    await expectRefusedLocally(await tampered(change), code);
  });
});

describe("#4 duplicate parameters, in any letter case", () => {
  it.each([
    ["an exact duplicate", (u: string) => u.replace("&X-Amz-Date=", "&X-Amz-Credential=AKIAEMULATORROOT0001%2F20200101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=")],
    ["a lowercase duplicate", (u: string) => `${u}&x-amz-credential=AKIAEMULATORROOT0001%2F20200101%2Fus-east-1%2Fsts%2Faws4_request`],
    ["a duplicate Action", (u: string) => `${u}&action=AssumeRole`],
  ])("refuses %s", async (_name, change) => {
    await expectRefusedLocally(await tampered(change), "query_duplicate_parameter");
  });
});

describe("#5 lenient query parsing", () => {
  it.each([
    ["a ; separator", (u: string) => u.replace("&Version=", ";Version="), "query_malformed"],
    ["a bad percent-escape", (u: string) => u.replace("Version=2011-06-15", "Version=2011-06-15%zz"), "query_malformed"],
    ["a truncated percent-escape", (u: string) => `${u}%2`, "query_malformed"],
    ["a pair without =", (u: string) => u.replace("&Version=", "&junk&Version="), "query_malformed"],
    ["an empty pair", (u: string) => u.replace("&Version=", "&&Version="), "query_malformed"],
    ["an empty name", (u: string) => u.replace("&Version=", "&=x&Version="), "query_malformed"],
    ["a literal +", (u: string) => u.replace("Version=2011-06-15", "Version=2011-06-15+"), "query_malformed"],
    ["a fragment", (u: string) => `${u}#Action=AssumeRole`, "token_url_fragment"],
    ["a space", (u: string) => u.replace("&Version=", "& Version="), "token_url_malformed"],
    ["a percent-escape that is not UTF-8", (u: string) => u.replace("Version=2011-06-15", "Version=2011-06-15%C0"), "query_malformed"],
  ])("refuses %s", async (_name, change, code) => {
    await expectRefusedLocally(await tampered(change), code);
  });
});

describe("#6 parameters smuggled in a body", () => {
  it("sends STS a GET with no body, whatever the client's request carries", async () => {
    const now = Date.now();
    const sts = emulatorAt(now);
    const res = await through(createGateApp({ now: () => now }), { ...env, STS: sts.binding }, new Request("https://localhost/", {
        method: "POST",
        headers: { ...bearer(await mintToken("alice")), "content-type": "application/x-www-form-urlencoded" },
        body: "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fadmin",
      }));
    expect(res.status).toBe(200);
    expect(sts.requests[0]!.method).toBe("GET");
    expect(await sts.requests[0]!.text()).toBe("");
  });
});

describe("#7 attacker-chosen headers", () => {
  it("sends STS exactly the audience header and Accept: application/json", async () => {
    const now = Date.now();
    const sts = emulatorAt(now);
    const res = await through(createGateApp({ now: () => now }), { ...env, STS: sts.binding }, new Request("https://localhost/", {
        headers: {
          ...bearer(await mintToken("alice")),
          host: "evil.example",
          "x-amz-target": "AWSSecurityTokenServiceV20110615.AssumeRole",
          accept: "text/xml",
          "x-k8s-aws-id": "another-audience",
        },
      }));
    expect(res.status).toBe(200);
    expect([...sts.requests[0]!.headers]).toEqual([
      ["accept", "application/json"],
      ["x-k8s-aws-id", "sts-gate-test"],
    ]);
  });

  it.each([
    ["only host", "host"],
    ["an extra signed header", "host;x-amz-target;x-k8s-aws-id"],
    ["a reordered list", "x-k8s-aws-id;host"],
  ])("refuses X-Amz-SignedHeaders with %s", async (_name, signed) => {
    const token = await tampered((u) => u.replace(/X-Amz-SignedHeaders=[^&]+/, `X-Amz-SignedHeaders=${encodeURIComponent(signed)}`));
    await expectRefusedLocally(token, "signed_headers_invalid");
  });
});

describe("#8 redirects from STS", () => {
  it("treats a 3xx from STS as a failure and never follows it", async () => {
    const { res, body } = await send(await mintToken("fault-redirect"));
    expect(res.status).toBe(503);
    expect(body.code).toBe("sts_redirect");
    expect(res.headers.get("retry-after")).not.toBeNull();
  });
});

describe("#10 stale, future and long-lived tokens, checked before STS", () => {
  it.each([
    ["X-Amz-Expires=901", (u: string) => `${u}&X-Amz-Expires=901`, "expires_invalid"],
    ["X-Amz-Expires=-1", (u: string) => `${u}&X-Amz-Expires=-1`, "expires_invalid"],
    ["X-Amz-Expires=abc", (u: string) => `${u}&X-Amz-Expires=abc`, "expires_invalid"],
    ["X-Amz-Expires=1e3", (u: string) => `${u}&X-Amz-Expires=1e3`, "expires_invalid"],
  ])("refuses %s", async (_name, change, code) => {
    await expectRefusedLocally(await tampered(change), code);
  });

  it("refuses a token signed more than 15 minutes ago", async () => {
    await expectRefusedLocally(await mintToken("alice", { at: Date.now() - 15 * 60 * 1000 - 1000 }), "token_expired");
  });

  it("refuses a token signed more than a minute in the future", async () => {
    await expectRefusedLocally(await mintToken("alice", { at: Date.now() + 90_000 }), "token_not_yet_valid");
  });

  it("refuses a credential scoped to another day or region", async () => {
    await expectRefusedLocally(await tampered((u) => u.replace("%2Fus-east-1%2Fsts", "%2Feu-west-1%2Fsts")), "credential_region_mismatch");
    await expectRefusedLocally(await tampered((u) => u.replace(/Credential=([A-Z0-9]+)%2F\d{8}/, "Credential=$1%2F20200101")), "credential_date_mismatch");
  });
});

describe("#11 federated users and root", () => {
  it("denies a federated-user identity the policy has not opted into", async () => {
    const { res, body } = await send(await mintToken("federated-bob"));
    expect(res.status).toBe(403);
    expect(body.code).toBe("principal_type_denied");
  });

  it("denies the root user the policy has not opted into", async () => {
    const { res, body } = await send(await mintToken("root"));
    expect(res.status).toBe(403);
    expect(body.code).toBe("principal_type_denied");
  });
});

describe("#12 the same role name in another account", () => {
  it("denies deployer from an account the policy does not name", async () => {
    const { res, body } = await send(await mintToken("other-account-deployer"));
    expect(res.status).toBe(403);
    expect(body.code).toBe("policy_denied");
  });
});

describe("#13 identity confusion through UserId", () => {
  it("fails closed when a federated ARN comes with the account's root UserId", async () => {
    const { res, body } = await send(await mintToken("userid-confusion"));
    expect(res.status).toBe(503);
    expect(body.code).toBe("sts_inconsistent_identity");
  });
});

describe("#14 resource exhaustion", () => {
  /** The gate in front of an emulator that counts every request reaching it, whatever it carries. */
  async function throughCountingSts(token: string) {
    const sts = emulatorAt(Date.now());
    const res = await through(createGateApp(), { ...env, STS: sts.binding }, new Request("https://localhost/", { headers: bearer(token) }));
    return { status: res.status, code: ((await res.json()) as Problem).code, stsRequests: sts.requests.length };
  }

  it("refuses a token over 4 KiB before decoding it, and sends nothing to STS", async () => {
    const token = `k8s-aws-v1.${"A".repeat(4096)}`;
    expect(await throughCountingSts(token)).toEqual({ status: 401, code: "token_too_large", stsRequests: 0 });
  });

  it.each([
    ["not a token", "hello", "token_prefix"],
    ["bad base64url", "k8s-aws-v1.aGVsbG8=", "token_encoding"],
    ["standard base64", "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8/QWN0aW9u+/", "token_encoding"],
    ["not UTF-8", "k8s-aws-v1._-8", "token_not_utf8"],
    ["not a URL", "k8s-aws-v1.aGVsbG8", "token_url_scheme"],
  ])("refuses junk locally: %s, and nothing reaches STS", async (_name, token, code) => {
    expect(await throughCountingSts(token)).toEqual({ status: 401, code, stsRequests: 0 });
  });

  it("counts what reaches STS: a valid token through the same harness is one request", async () => {
    const sts = emulatorAt(Date.now());
    const res = await through(createGateApp(), { ...env, STS: sts.binding }, new Request("https://localhost/", { headers: bearer(await mintToken("alice")) }));
    expect(res.status).toBe(200);
    expect(sts.requests).toHaveLength(1);
  });
});
