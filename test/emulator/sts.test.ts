// Unit tests of the STS emulator core. Written for workerd (@cloudflare/vitest-plugin) but use only
// web-standard APIs, so they also pass under plain Node 22.
import { SignatureV4 } from "@smithy/signature-v4";
import { AwsV4Signer } from "aws4fetch";
import { describe, expect, it } from "vitest";
import {
  createStsEmulator,
  EMPTY_PAYLOAD_SHA256,
  type EmulatorCall,
  type EmulatorIdentity,
  FAULTS,
  formatAmzDate,
  HUGE_BODY_BYTES,
  IDENTITIES,
  regionOfStsHost,
  TRICKLE_INTERVAL_MS,
  uriEncode,
} from "./sts";
import { presignWith } from "../support/tokens";

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const MINUTE = 60_000;
const AUDIENCE = "my-cluster";
const REGION = "eu-west-1";
const HOST = `sts.${REGION}.amazonaws.com`;
const BASE = `https://${HOST}/?Action=GetCallerIdentity&Version=2011-06-15`;
const SEND = { "x-k8s-aws-id": AUDIENCE, Accept: "application/json" };

function identity(name: string): EmulatorIdentity {
  const found = IDENTITIES.find((i) => i.name === name);
  if (!found) throw new Error(`no identity ${name}`);
  return found;
}

interface SignOptions {
  url?: string;
  region?: string;
  date?: number;
  service?: string;
  sessionToken?: string | null;
}

async function signAws4fetch(name: string, o: SignOptions = {}): Promise<string> {
  const who = identity(name);
  const sessionToken = o.sessionToken === null ? undefined : (o.sessionToken ?? who.sessionToken);
  return presignWith({ ...who, sessionToken }, { url: o.url ?? BASE, audience: AUDIENCE, service: o.service, region: o.region ?? REGION, at: o.date ?? NOW });
}

/** @smithy/signature-v4 wants a hash class; this one is WebCrypto-backed (HMAC when given a secret). */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBytes = (data: SourceData): Uint8Array =>
  typeof data === "string"
    ? new TextEncoder().encode(data)
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

class WebCryptoSha256 {
  private readonly secret?: Uint8Array;
  private parts: Uint8Array[] = [];
  constructor(secret?: SourceData) {
    if (secret !== undefined) this.secret = toBytes(secret);
  }
  update(data: SourceData): void {
    this.parts.push(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    const all = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of this.parts) {
      all.set(p, offset);
      offset += p.length;
    }
    if (!this.secret) return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
    const key = await crypto.subtle.importKey("raw", this.secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, all));
  }
  reset(): void {
    this.parts = [];
  }
}

async function signSmithy(name: string, o: { date?: number; expiresIn?: number } = {}): Promise<string> {
  const who = identity(name);
  const signer = new SignatureV4({
    service: "sts",
    region: REGION,
    sha256: WebCryptoSha256,
    credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey, sessionToken: who.sessionToken },
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: HOST,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: HOST, "x-k8s-aws-id": AUDIENCE },
    },
    { expiresIn: o.expiresIn ?? 60, signingDate: new Date(o.date ?? NOW) },
  );
  const query = Object.entries(presigned.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
    .join("&");
  return `https://${HOST}/?${query}`;
}

/** A by-hand presigner, to produce what no mainstream STS signer does (e.g. UNSIGNED-PAYLOAD). */
async function signByHand(name: string, payloadHash: string): Promise<string> {
  const who = identity(name);
  const enc = new TextEncoder();
  const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  const amzDate = formatAmzDate(NOW);
  const scope = `${amzDate.slice(0, 8)}/${REGION}/sts/aws4_request`;
  const params: [string, string][] = [
    ["Action", "GetCallerIdentity"],
    ["Version", "2011-06-15"],
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${who.accessKeyId}/${scope}`],
    ["X-Amz-Date", amzDate],
    ["X-Amz-SignedHeaders", "host;x-k8s-aws-id"],
  ];
  const query = params.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).sort().join("&");
  const canonical = ["GET", "/", query, `host:${HOST}\nx-k8s-aws-id:${AUDIENCE}\n`, "host;x-k8s-aws-id", payloadHash].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(await crypto.subtle.digest("SHA-256", enc.encode(canonical)))].join("\n");
  let key: ArrayBuffer = enc.encode(`AWS4${who.secretAccessKey}`).buffer as ArrayBuffer;
  for (const part of [amzDate.slice(0, 8), REGION, "sts", "aws4_request", toSign]) {
    const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    key = await crypto.subtle.sign("HMAC", k, enc.encode(part));
  }
  return `https://${HOST}/?${query}&X-Amz-Signature=${hex(key)}`;
}

function emulator(overrides: { now?: number; slowMs?: number; sleep?: (ms: number) => Promise<void> } = {}) {
  const calls: EmulatorCall[] = [];
  const sts = createStsEmulator({
    identities: IDENTITIES,
    now: () => overrides.now ?? NOW,
    slowMs: overrides.slowMs ?? 50,
    sleep: overrides.sleep,
    onCall: (call) => calls.push(call),
  });
  return { sts, calls };
}

async function send(url: string, headers: Record<string, string> = SEND, init: RequestInit = {}) {
  const response = await emulator().sts.fetch(new Request(url, { headers, ...init }));
  return { response, text: await response.text() };
}

async function expectError(url: string, status: number, code: string, headers: Record<string, string> = SEND) {
  const { response, text } = await send(url, headers);
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  const body = JSON.parse(text) as { Error: { Code: string; Message: string; Type: string }; RequestId: string };
  expect(body.Error.Code).toBe(code);
  expect(body.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  return body.Error;
}

function withParam(url: string, name: string, value: string | null): string {
  const u = new URL(url);
  if (value === null) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.toString();
}

describe("identities file", () => {
  it("parses, with unique access keys and a known fault on every faulty identity", () => {
    expect(IDENTITIES.length).toBeGreaterThan(10);
    expect(new Set(IDENTITIES.map((i) => i.accessKeyId)).size).toBe(IDENTITIES.length);
    for (const i of IDENTITIES) if (i.fault) expect(FAULTS).toContain(i.fault);
  });
});

describe("host → signing region", () => {
  it.each([
    ["sts.amazonaws.com", "us-east-1"],
    ["sts.eu-west-1.amazonaws.com", "eu-west-1"],
    ["sts-fips.us-east-1.amazonaws.com", "us-east-1"],
    ["sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"],
    ["sts.cn-north-1.amazonaws.com.cn", "cn-north-1"],
    ["sts.eu-central-1.api.aws", "eu-central-1"],
  ])("%s → %s", (host, region) => expect(regionOfStsHost(host)).toBe(region));

  it.each(["evil.example", "sts.amazonaws.com.evil.example", "sts.eu-west-1.amazonaws.com:8443", "sts.cn-north-1.amazonaws.com", "sts.eu-west-1.amazonaws.com.cn", "iam.amazonaws.com"])(
    "%s is not STS",
    (host) => expect(regionOfStsHost(host)).toBeUndefined(),
  );
});

describe("accepts what the mainstream signers produce", () => {
  it("aws4fetch hashes the empty payload for presigned non-S3 requests", async () => {
    const who = identity("alice");
    const signer = new AwsV4Signer({
      url: BASE, headers: { "x-k8s-aws-id": AUDIENCE }, accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey,
      service: "sts", region: REGION, signQuery: true,
    });
    expect((await signer.canonicalString()).split("\n").at(-1)).toBe(EMPTY_PAYLOAD_SHA256);
  });

  it.each(IDENTITIES.filter((i) => !i.fault && !i.sessionExpired).map((i) => i.name))("aws4fetch token of %s → JSON identity", async (name) => {
    const who = identity(name);
    const { response, text } = await send(await signAws4fetch(name));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(text);
    expect(body.GetCallerIdentityResponse.GetCallerIdentityResult).toEqual({ Account: who.arn.split(":")[4], Arn: who.arn, UserId: who.userId });
    expect(body.GetCallerIdentityResponse.ResponseMetadata.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each(["alice", "deployer", "federated-bob"])("@smithy/signature-v4 presign of %s", async (name) => {
    const { response, text } = await send(await signSmithy(name));
    expect(response.status).toBe(200);
    expect(JSON.parse(text).GetCallerIdentityResponse.GetCallerIdentityResult.Arn).toBe(identity(name).arn);
  });

  it("answers XML unless JSON is asked for", async () => {
    const { response, text } = await send(await signAws4fetch("deployer"), { "x-k8s-aws-id": AUDIENCE });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/xml");
    expect(text).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(text).toContain("<Arn>arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42</Arn>");
    expect(text).toContain("<Account>111122223333</Account>");
  });

  it.each([
    ["sts.amazonaws.com", "us-east-1"],
    ["sts-fips.us-east-1.amazonaws.com", "us-east-1"],
    ["sts.cn-north-1.amazonaws.com.cn", "cn-north-1"],
  ])("signed for %s in %s", async (host, region) => {
    const url = `https://${host}/?Action=GetCallerIdentity&Version=2011-06-15`;
    expect((await send(await signAws4fetch("alice", { url, region }))).response.status).toBe(200);
  });

  it("ignores X-Amz-Expires: a 60-second token still works 14 minutes later", async () => {
    const url = await signSmithy("deployer", { expiresIn: 60, date: NOW - 14 * MINUTE });
    expect(new URL(url).searchParams.get("X-Amz-Expires")).toBe("60");
    expect((await send(url)).response.status).toBe(200);
  });

  it("accepts exactly 15 minutes either side of X-Amz-Date", async () => {
    expect((await send(await signAws4fetch("alice", { date: NOW - 15 * MINUTE }))).response.status).toBe(200);
    expect((await send(await signAws4fetch("alice", { date: NOW + 15 * MINUTE }))).response.status).toBe(200);
  });
});

describe("rejects like STS", () => {
  it("tampered signature → SignatureDoesNotMatch", async () => {
    const url = await signAws4fetch("deployer");
    const sig = new URL(url).searchParams.get("X-Amz-Signature")!;
    await expectError(withParam(url, "X-Amz-Signature", (sig[0] === "0" ? "1" : "0") + sig.slice(1)), 403, "SignatureDoesNotMatch");
  });

  it("another audience → SignatureDoesNotMatch (the header is signed)", async () => {
    await expectError(await signAws4fetch("deployer"), 403, "SignatureDoesNotMatch", { ...SEND, "x-k8s-aws-id": "other-cluster" });
  });

  it("signed audience header absent → SignatureDoesNotMatch", async () => {
    await expectError(await signAws4fetch("deployer"), 403, "SignatureDoesNotMatch", { Accept: "application/json" });
  });

  it("UNSIGNED-PAYLOAD (an S3-only convention) → SignatureDoesNotMatch; the empty-body hash → OK", async () => {
    await expectError(await signByHand("alice", "UNSIGNED-PAYLOAD"), 403, "SignatureDoesNotMatch");
    expect((await send(await signByHand("alice", EMPTY_PAYLOAD_SHA256))).response.status).toBe(200);
  });

  it("another identity's session token → InvalidClientTokenId", async () => {
    const url = await signAws4fetch("deployer", { sessionToken: identity("reader").sessionToken });
    await expectError(url, 403, "InvalidClientTokenId");
  });

  it("session token missing → InvalidClientTokenId", async () => {
    await expectError(await signAws4fetch("deployer", { sessionToken: null }), 403, "InvalidClientTokenId");
  });

  it("session token sent for a long-term key → InvalidClientTokenId", async () => {
    await expectError(await signAws4fetch("alice", { sessionToken: "made-up" }), 403, "InvalidClientTokenId");
  });

  it("unknown access key → InvalidClientTokenId", async () => {
    const url = (await signAws4fetch("alice")).replace(identity("alice").accessKeyId, "AKIAEMULATORNOBODY01");
    const error = await expectError(url, 403, "InvalidClientTokenId");
    expect(error.Message).toBe("The security token included in the request is invalid.");
  });

  it("expired session → ExpiredToken", async () => {
    const error = await expectError(await signAws4fetch("expired-session"), 403, "ExpiredToken");
    expect(error.Message).toBe("The security token included in the request is expired");
  });

  it("X-Amz-Date more than 15 minutes ago → Signature expired", async () => {
    const error = await expectError(await signAws4fetch("alice", { date: NOW - 15 * MINUTE - 1000 }), 403, "SignatureDoesNotMatch");
    expect(error.Message).toMatch(/^Signature expired: 20261122T114459Z is now earlier than 20261122T114500Z/);
  });

  it("X-Amz-Date more than 15 minutes ahead → Signature not yet current", async () => {
    const error = await expectError(await signAws4fetch("alice", { date: NOW + 15 * MINUTE + 1000 }), 403, "SignatureDoesNotMatch");
    expect(error.Message).toMatch(/^Signature not yet current: /);
  });

  it("scope region other than the host's → SignatureDoesNotMatch", async () => {
    const url = await signAws4fetch("alice", { url: "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", region: "eu-west-1" });
    expect((await expectError(url, 403, "SignatureDoesNotMatch")).Message).toContain("valid region");
  });

  it("scope service other than sts → SignatureDoesNotMatch", async () => {
    expect((await expectError(await signAws4fetch("alice", { service: "iam" }), 403, "SignatureDoesNotMatch")).Message).toContain("'sts'");
  });

  it("scope date other than X-Amz-Date's → SignatureDoesNotMatch", async () => {
    const url = await signAws4fetch("alice");
    const error = await expectError(withParam(url, "X-Amz-Date", formatAmzDate(NOW + 24 * 60 * MINUTE - 1)), 403, "SignatureDoesNotMatch");
    expect(error.Message).toContain("Credential scope");
  });

  it("a case-variant parameter is a different (unsigned) parameter, not an override", async () => {
    const url = await signAws4fetch("alice");
    await expectError(`${url}&x-amz-credential=${encodeURIComponent(`${identity("deployer").accessKeyId}/20261122/${REGION}/sts/aws4_request`)}`, 403, "SignatureDoesNotMatch");
  });

  it("duplicate parameter → MalformedQueryString", async () => {
    await expectError(`${await signAws4fetch("alice")}&Action=GetCallerIdentity`, 400, "MalformedQueryString");
  });

  it.each(["%zz", "%E0%A4%A", "%C3%28"])("bad percent-escape %s → MalformedQueryString", async (bad) => {
    await expectError(`${await signAws4fetch("alice")}&Foo=${bad}`, 400, "MalformedQueryString");
  });

  it("no auth parameters → MissingAuthenticationToken", async () => {
    await expectError(BASE, 403, "MissingAuthenticationToken");
  });

  it("a signature missing from otherwise complete auth → MissingAuthenticationToken", async () => {
    await expectError(withParam(await signAws4fetch("alice"), "X-Amz-Signature", null), 403, "MissingAuthenticationToken");
  });

  it("validly signed other action → InvalidAction", async () => {
    const url = await signAws4fetch("alice", { url: `https://${HOST}/?Action=GetSessionToken&Version=2011-06-15` });
    await expectError(url, 400, "InvalidAction");
  });

  it("validly signed other version → InvalidAction", async () => {
    const url = await signAws4fetch("alice", { url: `https://${HOST}/?Action=GetCallerIdentity&Version=2011-06-16` });
    await expectError(url, 400, "InvalidAction");
  });

  it("POST → InvalidAction", async () => {
    const { response } = await send(await signAws4fetch("alice"), SEND, { method: "POST", body: "" });
    expect(response.status).toBe(400);
  });

  it("a host that is not STS → 421", async () => {
    const url = await signAws4fetch("alice", { url: "https://evil.example/?Action=GetCallerIdentity&Version=2011-06-15" });
    expect((await send(url)).response.status).toBe(421);
  });

  it("errors are XML unless JSON is asked for", async () => {
    const { response, text } = await send(BASE, { "x-k8s-aws-id": AUDIENCE });
    expect(response.headers.get("content-type")).toBe("text/xml");
    expect(text).toMatch(/<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>MissingAuthenticationToken<\/Code>/);
    expect(text).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId>/);
  });
});

describe("faults, after a valid signature", () => {
  const faulty = async (name: string, headers: Record<string, string> = SEND) => {
    const { sts } = emulator();
    return sts.fetch(new Request(await signAws4fetch(name), { headers }));
  };
  const resultOf = async (response: Response) => JSON.parse(await response.text()).GetCallerIdentityResponse.GetCallerIdentityResult;

  it.each([
    ["fault-throttle", 400, "Throttling"],
    ["fault-internal", 500, "InternalFailure"],
    ["fault-unavailable", 503, "ServiceUnavailable"],
  ])("%s → %i %s", async (name, status, code) => {
    const response = await faulty(name);
    expect(response.status).toBe(status);
    expect(JSON.parse(await response.text()).Error.Code).toBe(code);
  });

  it("a fault identity with a bad signature is rejected normally", async () => {
    await expectError(await signAws4fetch("fault-throttle"), 403, "SignatureDoesNotMatch", { ...SEND, "x-k8s-aws-id": "other" });
  });

  it("redirect → 302 to evil.example with an empty body", async () => {
    const response = await faulty("fault-redirect");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("https://evil.example/steal");
    expect(await response.text()).toBe("");
  });

  it("html → 200 text/html", async () => {
    const response = await faulty("fault-html");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("xml → 200 XML although JSON was asked for", async () => {
    const response = await faulty("fault-xml");
    expect(response.headers.get("content-type")).toBe("text/xml");
    expect(await response.text()).toContain("<GetCallerIdentityResult>");
  });

  it("account-mismatch, extra-field, missing-field, wrong-type", async () => {
    expect((await resultOf(await faulty("fault-account-mismatch"))).Account).toBe("999988887777");
    expect(Object.keys(await resultOf(await faulty("fault-extra-field")))).toEqual(["Account", "Arn", "Evil", "UserId"]);
    expect(Object.keys(await resultOf(await faulty("fault-missing-field")))).toEqual(["Account", "Arn"]);
    expect((await resultOf(await faulty("fault-wrong-type"))).Account).toBe(111122223333);
  });

  it("huge → exactly 10 MiB of application/json", async () => {
    const response = await faulty("fault-huge");
    expect(response.headers.get("content-type")).toBe("application/json");
    const reader = response.body!.getReader();
    let total = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) total += chunk.value.byteLength;
    expect(total).toBe(HUGE_BODY_BYTES);
  });

  // The waits are read from an injected sleep, not a clock: what the fault waits for is exact.
  it("slow → waits slowMs, then succeeds", async () => {
    const slept: number[] = [];
    const { sts } = emulator({ slowMs: 120, sleep: async (ms) => void slept.push(ms) });
    const response = await sts.fetch(new Request(await signAws4fetch("fault-slow"), { headers: SEND }));
    expect(slept).toEqual([120]);
    expect(response.status).toBe(200);
  });

  it("trickle → headers at once, then one byte per 200 ms, never ending", async () => {
    const slept: number[] = [];
    const { sts } = emulator({ sleep: async (ms) => void slept.push(ms) });
    const response = await sts.fetch(new Request(await signAws4fetch("fault-trickle"), { headers: SEND }));
    expect(response.status).toBe(200);
    expect(slept).toEqual([]);
    const reader = response.body!.getReader();
    const bytes: number[] = [];
    for (let i = 0; i < 40; i++) {
      const chunk = await reader.read();
      expect(chunk.done).toBe(false);
      bytes.push(...chunk.value!);
      expect(slept).toEqual(Array(i + 1).fill(TRICKLE_INTERVAL_MS));
    }
    expect(new TextDecoder().decode(Uint8Array.from(bytes))).toMatch(/^\{"GetCallerIdentityResponse": +$/);
    await reader.cancel();
  });
});

describe("onCall", () => {
  it("reports every request carrying a signature, with its outcome", async () => {
    const { sts, calls } = emulator();
    const good = await signAws4fetch("deployer");
    await sts.fetch(new Request(good, { headers: SEND }));
    await sts.fetch(new Request(good, { headers: { ...SEND, "x-k8s-aws-id": "other" } }));
    await sts.fetch(new Request(await signAws4fetch("fault-throttle"), { headers: SEND }));
    await sts.fetch(new Request(BASE, { headers: SEND }));
    const signature = new URL(good).searchParams.get("X-Amz-Signature");
    expect(calls.map((c) => [c.signature === signature, c.accessKeyId, c.outcome])).toEqual([
      [true, identity("deployer").accessKeyId, "ok"],
      [true, identity("deployer").accessKeyId, "SignatureDoesNotMatch"],
      [false, identity("fault-throttle").accessKeyId, "fault:throttle"],
    ]);
  });
});
