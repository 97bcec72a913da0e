import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor";
// The repository's own configuration, as committed: what `npm run deploy` deploys.
import REPOSITORY_TOML from "../../wrangler.toml?raw";
// A sound gate with APPS (issue 20): three apps, each with its own audience, origin and policy.
import APPS_TOML from "../fixtures/deploy/apps.toml?raw";

/** A sound top-level configuration; each case below breaks one thing. */
const SOUND = `
name = "gate"
[[kv_namespaces]]
binding = "IDENTITY_CACHE"
id = "5f0c6d2be4a94c1e8f3b7a9d0e1c2b3a"
[vars]
AUDIENCE = "payments-api-prod"
ORIGIN_URL = "https://payments-origin.acme-corp.net"
[vars.POLICY]
allow = ["arn:aws:iam::111122223333:role/deployer"]
`;

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

function doctor(text: string, env?: string) {
  const out = runDoctor("wrangler.toml", text, env);
  return { ...out, problems: lines(out.stderr) };
}

describe("sts-gate doctor", () => {
  it("exits 0 on a sound configuration and prints the summary npm run policy -- check prints", () => {
    const out = doctor(SOUND);
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toBe("");
    expect(lines(out.stdout)).toEqual([
      `wrangler.toml: no problems found (the top level, what wrangler deploy --env="" deploys)`,
      "wrangler.toml [vars.POLICY]: valid",
      "shorthand form (allow): one rule named allow",
      "  allow: any method on any path, for 1 principal pattern",
      "deny: none",
      "accounts: any account the rules name",
      "principal types: user, assumed-role, role",
      "pinned: none",
    ]);
  });

  it.each([
    ["a placeholder KV namespace id", SOUND.replace("5f0c6d2be4a94c1e8f3b7a9d0e1c2b3a", "00000000000000000000000000000000"), /^wrangler\.toml: IDENTITY_CACHE: .*placeholder 0{32}.*kv namespace create/],
    ["no IDENTITY_CACHE", SOUND.replace('binding = "IDENTITY_CACHE"', 'binding = "OTHER"'), /^wrangler\.toml: IDENTITY_CACHE: no KV namespace is bound/],
    ["an example origin", SOUND.replace("payments-origin.acme-corp.net", "origin.example.com"), /^wrangler\.toml: ORIGIN_URL: origin\.example\.com is an example or local host/],
    ["the bare example.com", SOUND.replace("payments-origin.acme-corp.net", "example.com"), /ORIGIN_URL: example\.com is an example/],
    ["localhost over https", SOUND.replace("payments-origin.acme-corp.net", "localhost:8443"), /ORIGIN_URL: localhost is an example or local host/],
    ["a non-https ORIGIN_URL", SOUND.replace("https://payments-origin", "http://payments-origin"), /^wrangler\.toml: ORIGIN_URL: is http:\/\/, not https/],
    ["an ORIGIN_URL that is not a URL", SOUND.replace("https://payments-origin.acme-corp.net", "payments-origin"), /^wrangler\.toml: ORIGIN_URL: must be an absolute http\(s\) URL/],
    ["a missing ORIGIN_URL", SOUND.replace(/ORIGIN_URL = .*\n/, ""), /^wrangler\.toml: ORIGIN_URL: missing from \[vars\]/],
    ["an invalid policy", SOUND.replace("arn:aws:iam::111122223333:role/deployer", "arn:aws:iam::*:role/deployer"), /^wrangler\.toml: POLICY\.allow\[0\]: the account field must be a literal/],
    ["a policy that admits no one", SOUND.replace("[vars.POLICY]", '[vars.POLICY]\naccounts = ["444455556666"]'), /^wrangler\.toml: POLICY: admits no one: POLICY\.allow\[0\] is for account 111122223333/],
    ["a missing POLICY", SOUND.replace(/\[vars\.POLICY\]\nallow = .*\n/, ""), /^wrangler\.toml: POLICY: missing from \[vars\]/],
    ["an STS binding", `${SOUND.replace("[vars]", '[[services]]\nbinding = "STS"\nservice = "sts-emulator"\n[vars]')}`, /^wrangler\.toml: STS: a service binding to sts-emulator is for development and tests only/],
    ["an ORIGIN binding", `${SOUND.replace("[vars]", '[[services]]\nbinding = "ORIGIN"\nservice = "echo"\n[vars]')}`, /^wrangler\.toml: ORIGIN: a service binding/],
    ["a private key in vars", SOUND.replace("[vars]", `[vars]\nASSERTION_PRIVATE_JWK = '{"kty":"OKP","crv":"Ed25519","x":"a","d":"b"}'`), /^wrangler\.toml: ASSERTION_PRIVATE_JWK: a private key in \[vars\].*wrangler secret put ASSERTION_PRIVATE_JWK/],
    ["a private key under another name", SOUND.replace("[vars]", `[vars]\nSIGNING_KEY = "-----BEGIN PRIVATE KEY-----\\nMC4CAQ\\n-----END PRIVATE KEY-----"`), /^wrangler\.toml: SIGNING_KEY: a private key in \[vars\]/],
    ["a missing AUDIENCE", SOUND.replace(/AUDIENCE = .*\n/, ""), /^wrangler\.toml: AUDIENCE: missing from \[vars\]/],
    ["an AUDIENCE the gate refuses", SOUND.replace('"payments-api-prod"', '"has space"'), /^wrangler\.toml: AUDIENCE: must be 1 to 256 visible ASCII/],
    ["CORS_ALLOWED_ORIGINS = '*'", SOUND.replace("[vars]", '[vars]\nCORS_ALLOWED_ORIGINS = "*"'), /^wrangler\.toml: CORS_ALLOWED_ORIGINS\[0\]: '\*' is refused/],
  ])("exits 1 with one line for %s", (_why, text, line) => {
    const out = doctor(text);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatch(line);
  });

  it("reports every problem, one line each", () => {
    const text = `
[[kv_namespaces]]
binding = "IDENTITY_CACHE"
id = "00000000000000000000000000000000"
[[services]]
binding = "STS"
service = "sts-emulator"
[vars]
ORIGIN_URL = "http://gate.example.com"
ASSERTION_PRIVATE_JWK = '{"kty":"OKP","crv":"Ed25519","x":"a","d":"b"}'
[vars.POLICY]
allow = ["arn:aws:sts::111122223333:federated-user/bob"]
`;
    const out = doctor(text);
    expect(out.exitCode).toBe(1);
    expect(out.problems.map((p) => p.split(": ")[1])).toEqual([
      "IDENTITY_CACHE",
      "AUDIENCE",
      "ORIGIN_URL",
      "ORIGIN_URL",
      "POLICY",
      "STS",
      "ASSERTION_PRIVATE_JWK",
    ]);
  });

  it("checks the environment --env names, which inherits no vars or bindings from the top level", () => {
    const text = `${SOUND}
[env.staging]
name = "gate-staging"
[env.staging.vars]
AUDIENCE = "payments-api-staging"
`;
    const out = doctor(text, "staging");
    expect(out.exitCode).toBe(1);
    expect(out.problems).toEqual([
      expect.stringMatching(/^wrangler\.toml \[env\.staging\]: IDENTITY_CACHE: no KV namespace is bound in \[\[env\.staging\.kv_namespaces\]\]/),
      expect.stringMatching(/^wrangler\.toml \[env\.staging\]: ORIGIN_URL: missing from \[env\.staging\.vars\]/),
      expect.stringMatching(/^wrangler\.toml \[env\.staging\]: POLICY: missing from \[env\.staging\.vars\]/),
    ]);
    // --env "" is the top level, as for wrangler deploy --env="".
    expect(doctor(text, "").exitCode).toBe(0);
  });

  it("exits 2 with one line for an unknown environment or a file that is not TOML", () => {
    const unknown = doctor(SOUND, "prod");
    expect(unknown.exitCode).toBe(2);
    expect(unknown.problems).toEqual(["sts-gate: wrangler.toml has no [env.prod]"]);
    const broken = doctor("[vars\nAUDIENCE=");
    expect(broken.exitCode).toBe(2);
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]).toMatch(/^sts-gate: wrangler\.toml not valid TOML: /);
  });

  it("passes this repository's development and test environments as unfit for production", () => {
    // The committed [env.dev]/[env.test] wire the emulator in; the doctor must say so.
    const dev = doctor(`[[env.dev.services]]\nbinding = "STS"\nservice = "sts-emulator"\n[env.dev.vars]\nAUDIENCE = "x"`, "dev");
    expect(dev.problems.some((p) => p.includes(": STS: "))).toBe(true);
  });
});

describe("the repository's own wrangler.toml (ATTACKS #23)", () => {
  it("binds no STS and holds no key at the top level: the doctor finds only the two placeholders a deployer fills in", () => {
    const out = doctor(REPOSITORY_TOML, "");
    expect(out.exitCode).toBe(1);
    expect(out.problems.map((p) => p.split(": ")[1])).toEqual(["IDENTITY_CACHE", "ORIGIN_URL"]);
    expect(out.problems[0]).toMatch(/placeholder 0{32}/);
    expect(out.problems[1]).toMatch(/origin\.example\.com is an example or local host/);
  });

  it("deploys dev and test under their own Worker names, never the production one", () => {
    const doc = parse(REPOSITORY_TOML) as { name: string; env: Record<string, { name?: string }> };
    const names = [doc.name, doc.env.dev?.name, doc.env.test?.name];
    expect(names).toEqual(["sts-gate", "sts-gate-dev", "sts-gate-test"]);
    // And the doctor refuses both as they stand: they wire in the emulator.
    for (const env of ["dev", "test"]) expect(doctor(REPOSITORY_TOML, env).problems.some((p) => p.includes(": STS: "))).toBe(true);
  });
});

describe("sts-gate doctor with APPS (issue 20)", () => {
  it("exits 0 on a sound gate with APPS and prints each app's policy summary, named by the app", () => {
    const out = doctor(APPS_TOML);
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toBe("");
    const stdout = lines(out.stdout);
    expect(stdout[0]).toBe(`wrangler.toml: no problems found (the top level, what wrangler deploy --env="" deploys, 3 apps: payments, docs, wiki)`);
    expect(stdout.filter((l) => l.endsWith(": valid"))).toEqual([
      "wrangler.toml [vars] APPS[0] (payments): valid",
      "wrangler.toml [vars] APPS[1] (docs): valid",
      "wrangler.toml [vars] APPS[2] (wiki): valid",
    ]);
    expect(stdout).toContain("  readers: GET, HEAD on any path, for 1 principal pattern");
  });

  it("asks for no AUDIENCE, ORIGIN_URL or POLICY beside APPS", () => {
    expect(doctor(APPS_TOML).stderr).not.toMatch(/AUDIENCE|ORIGIN_URL|POLICY/);
  });

  const docsApp = (from: string, to: string) => APPS_TOML.replace(/(name = "docs"[\s\S]*?)(?=\[\[vars\.APPS\]\])/, (block) => block.replace(from, to));

  it.each([
    ["a non-https origin", docsApp("https://docs-origin", "http://docs-origin"), /^wrangler\.toml: APPS\[1\] \(docs\): originUrl: is http:\/\/, not https/],
    ["an example origin", docsApp("docs-origin.acme-corp.net", "docs.example.com"), /^wrangler\.toml: APPS\[1\] \(docs\): originUrl: docs\.example\.com is an example or local host/],
    ["an example host", docsApp('hosts = ["tools.acme-corp.net"]', 'hosts = ["*.example.com"]'), /^wrangler\.toml: APPS\[1\] \(docs\): hosts\[0\]: \*\.example\.com is an example or local host/],
    ["an invalid policy", docsApp("iam::111122223333:user/alice", "iam::*:user/alice"), /^wrangler\.toml: APPS\[1\] \(docs\): policy\.allow\[0\]: /],
    ["a policy that admits no one", docsApp('allow = ["arn:aws:iam::111122223333:user/alice"]', 'accounts = ["444455556666"]\nallow = ["arn:aws:iam::111122223333:user/alice"]'), /^wrangler\.toml: APPS\[1\] \(docs\): policy: admits no one: policy\.allow\[0\] is for account 111122223333/],
    ["admins in an app's policy", docsApp('allow = ["arn:aws:iam::111122223333:user/alice"]', 'allow = ["arn:aws:iam::111122223333:user/alice"]\nadmins = ["arn:aws:iam::111122223333:user/alice"]'), /^wrangler\.toml: APPS\[1\] \(docs\): policy\.admins: is not allowed in an app's policy/],
    ["an audience another app has", docsApp('audience = "docs-prod"', 'audience = "payments-api-prod"'), /^wrangler\.toml: APPS\[1\] \(docs\): audience: is the audience of APPS\[0\] \(payments\) too/],
    ["a name another app has", docsApp('name = "docs"', 'name = "wiki"'), /^wrangler\.toml: APPS\[2\] \(wiki\): name: duplicate app name wiki/],
    ["a bad app name", docsApp('name = "docs"', 'name = "the docs"'), /^wrangler\.toml: APPS\[1\] \(the docs\): name: must be 1 to 64 letters/],
    ["an audience the gate refuses", docsApp('audience = "docs-prod"', 'audience = "has space"'), /^wrangler\.toml: APPS\[1\] \(docs\): audience: must be 1 to 256 visible ASCII/],
    ["APPS beside AUDIENCE", APPS_TOML.replace("[vars]\n", '[vars]\nAUDIENCE = "x"\n'), /^wrangler\.toml: APPS: is set together with AUDIENCE/],
  ])("exits 1 with one line, named by the app, for %s", (_why, text, line) => {
    expect(text).not.toBe(APPS_TOML);
    const out = doctor(text);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatch(line);
  });

  it("reports a policy missing from an app", () => {
    const text = APPS_TOML.replace(/\n\[\[vars\.APPS\.policy\.rules\]\][\s\S]*$/, "\n");
    const out = doctor(text);
    expect(out.exitCode).toBe(1);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatch(/^wrangler\.toml: APPS\[2\] \(wiki\): policy: /);
  });

  it("reports every app's problems, one line each, by app", () => {
    const text = docsApp("https://docs-origin", "http://docs-origin").replace('audience = "wiki-prod"', 'audience = "docs-prod"').replace("iam::111122223333:role/deployer", "iam::*:role/deployer");
    const out = doctor(text);
    expect(out.exitCode).toBe(1);
    expect(out.problems.map((p) => /^wrangler\.toml: (APPS\[\d\] \(\w+\)): (\w+)/.exec(p)?.slice(1).join(" "))).toEqual([
      "APPS[0] (payments) policy",
      "APPS[2] (wiki) audience",
      "APPS[1] (docs) originUrl",
    ]);
  });
});
