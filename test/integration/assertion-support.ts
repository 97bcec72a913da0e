import { env } from "cloudflare:workers";
import { createLocalJWKSet, customFetch, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { createGateApp } from "../../src/gate/dispatch";
import type { VerifyCallerOptions } from "../../src/origin";
import { through } from "../support/gate";
import { bearer, mintToken } from "../support/tokens";

/** What the test env's gate puts in `iss` and `aud` (defaults from AUDIENCE and ORIGIN_URL). */
export const TEST_ISSUER = "urn:sts-gate:sts-gate-test";
export const TEST_AUDIENCE_CLAIM = "http://echo-origin.local";

/**
 * An origin that records what the gate sent it. Given `verifying` (the real echo origin binding,
 * `env.ORIGIN`), it forwards each request there, so the assertion is verified and a bad one is
 * refused; without, it answers 200 itself, for gates signing with a key of their own, which the
 * echo origin (it holds the run's key only) could not verify.
 */
export function captureOrigin(verifying?: Fetcher) {
  const requests: Request[] = [];
  const fetcher = {
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      requests.push(request.clone());
      return verifying ? verifying.fetch(request) : Response.json({ ok: true });
    },
  } as unknown as Fetcher;
  return {
    fetcher,
    requests,
    last(): Request {
      const r = requests.at(-1);
      if (r === undefined) throw new Error("the origin received nothing");
      return r;
    },
  };
}

/** One request through a fresh gate app with `testEnv`, waiting for its background work. */
export async function throughGate(testEnv: object, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await through(createGateApp(), testEnv, new Request(`https://localhost${path}`, init));
  return res;
}

/** An authenticated request as `name` through the gate with `testEnv`. */
export async function callAs(name: string, testEnv: object, path = "/items/42?view=full", init: RequestInit = {}): Promise<Response> {
  return throughGate(testEnv, path, { ...init, headers: { ...bearer(await mintToken(name)), ...(init.headers as Record<string, string> | undefined) } });
}

/** The gate's published key set, fetched from `/.well-known/jwks.json` without credentials. */
export async function gateJwks(testEnv: object): Promise<JSONWebKeySet> {
  const res = await throughGate(testEnv, "/.well-known/jwks.json");
  if (res.status !== 200) throw new Error(`JWKS answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as JSONWebKeySet;
}

/**
 * `createRemoteJWKSet` pointed at the gate's JWKS URL, its fetches served by a gate with
 * `testEnv` (an origin would fetch over the network). No cooldown, so a changed key set is
 * seen on the next unknown kid.
 */
export function remoteGateJwks(testEnv: object): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL("https://localhost/.well-known/jwks.json"), {
    cooldownDuration: 0,
    cacheMaxAge: 0,
    [customFetch]: (url: string, init: RequestInit) => throughGate(testEnv, new URL(url).pathname, init),
  });
}

/** Verifier options for the test env's gate, with `jwks` as given. */
export function verifierOptions(jwks: VerifyCallerOptions["jwks"], extra: Partial<VerifyCallerOptions> = {}): VerifyCallerOptions {
  return { jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE_CLAIM, ...extra };
}

export function localSet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  return createLocalJWKSet(jwks);
}

export function decodeAssertion(jwt: string) {
  return { header: decodeProtectedHeader(jwt), claims: decodeJwt(jwt) };
}

/** A request as the origin received it, with another method, URL or assertion. */
export function asReceived(request: Request, change: { method?: string; url?: string; assertion?: string } = {}): Request {
  const headers = new Headers(request.headers);
  if (change.assertion !== undefined) headers.set("x-caller-assertion", change.assertion);
  return new Request(change.url ?? request.url, { method: change.method ?? request.method, headers });
}

export { env };
