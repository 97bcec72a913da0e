import fc from "fast-check";
import { describe, it } from "vitest";
import { identityFromSts } from "../../src/identity";
import { compileArnPattern, compilePathGlob, compilePolicy, PARTITIONS, policyPath, PolicySchema, wildcardMatch } from "../../src/policy";

/**
 * Properties of the matchers and the schema, with a fixed seed and bounded runs, so a failure
 * reproduces exactly. The ARN properties are ATTACKS #12 stated generally: a `*` never crosses
 * `:`, and field counts never differ.
 */
const SEED = 20261122;
const RUNS = { seed: SEED, numRuns: 1000 };

// Field text: IAM name characters and '/', never ':' or '*'. A small alphabet makes near-misses
// (and so interesting matches) common. A line break is in it too: STS never returns one, but the
// matcher is defined on all text, and a regular expression's '.' would skip it.
const fieldChar = fc.constantFrom(..."ab01-_./+=,@\n".split(""));
const field = fc.string({ unit: fieldChar, maxLength: 10 });
const arnFields = (min = 1, max = 8) => fc.array(field, { minLength: min, maxLength: max });
/** Pattern field text: the same characters plus '*'. */
const patternField = fc.string({ unit: fc.oneof(fieldChar, fc.constant("*")), maxLength: 10 });

/** An ARN and a pattern made from it by replacing part of one field with `*`. */
const starredArn = arnFields().chain((fields) =>
  fc
    .integer({ min: 0, max: fields.length - 1 })
    .chain((i) =>
      fc
        .tuple(fc.nat({ max: fields[i]!.length }), fc.nat({ max: fields[i]!.length }))
        .map(([x, y]) => ({ fields, i, from: Math.min(x, y), to: Math.max(x, y) })),
    ),
);

function starPattern({ fields, i, from, to }: { fields: string[]; i: number; from: number; to: number }): string {
  const f = fields[i]!;
  return fields.map((v, j) => (j === i ? `${f.slice(0, from)}*${f.slice(to)}` : v)).join(":");
}

/** A reference glob: plain recursion over the characters, obviously right for short inputs. */
function refGlob(p: string, t: string): boolean {
  if (p === "") return t === "";
  if (p[0] === "*") return refGlob(p.slice(1), t) || (t !== "" && refGlob(p, t.slice(1)));
  return t !== "" && p[0] === t[0] && refGlob(p.slice(1), t.slice(1));
}

function refArn(pattern: string, arn: string): boolean {
  const p = pattern.split(":");
  const a = arn.split(":");
  return p.length === a.length && p.every((f, i) => refGlob(f, a[i]!));
}

describe("ARN pattern matching (properties)", () => {
  it("a pattern matches the ARN it was made from, with part of any one field replaced by '*'", () => {
    fc.assert(
      fc.property(starredArn, (s) => compileArnPattern(starPattern(s))(s.fields.join(":"))),
      RUNS,
    );
  });

  it("such a pattern matches only ARNs equal in every other field", () => {
    // The candidate is the ARN with some fields replaced: equal fields, changed fields, or all new.
    const candidate = starredArn.chain((s) =>
      fc
        .array(fc.option(field, { freq: 2 }), { minLength: s.fields.length, maxLength: s.fields.length })
        .map((changes) => ({ s, other: s.fields.map((v, j) => changes[j] ?? v) })),
    );
    fc.assert(
      fc.property(candidate, ({ s, other }) => {
        if (!compileArnPattern(starPattern(s))(other.join(":"))) return true;
        const f = s.fields[s.i]!;
        return (
          other.every((v, j) => j === s.i || v === s.fields[j]) &&
          other[s.i]!.startsWith(f.slice(0, s.from)) &&
          other[s.i]!.endsWith(f.slice(s.to)) &&
          other[s.i]!.length >= s.from + f.length - s.to
        );
      }),
      RUNS,
    );
  });

  it("no pattern with k fields matches an ARN with a different number of fields, even all-'*' patterns", () => {
    const pair = fc
      .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.boolean())
      .filter(([k, j]) => k !== j)
      .chain(([k, j, allStars]) =>
        fc.tuple(
          fc.array(allStars ? fc.constant("*") : patternField, { minLength: k, maxLength: k }),
          arnFields(j, j),
        ),
      );
    fc.assert(
      fc.property(pair, ([pattern, arn]) => !compileArnPattern(pattern.join(":"))(arn.join(":"))),
      RUNS,
    );
  });

  it("inserting a ':' anywhere in a matching ARN never still matches", () => {
    const inserted = starredArn.chain((s) => fc.nat({ max: s.fields.join(":").length }).map((at) => ({ s, at })));
    fc.assert(
      fc.property(inserted, ({ s, at }) => {
        const arn = s.fields.join(":");
        const match = compileArnPattern(starPattern(s));
        return match(arn) && !match(`${arn.slice(0, at)}:${arn.slice(at)}`);
      }),
      RUNS,
    );
  });

  it("agrees with a reference glob, field by field; deny's case-insensitive form agrees on folded text", () => {
    const pair = fc
      .integer({ min: 1, max: 6 })
      .chain((k) => fc.tuple(fc.array(patternField, { minLength: k, maxLength: k }), arnFields(k, k)));
    fc.assert(
      fc.property(pair, fc.boolean(), ([pattern, arn], upper) => {
        const p = pattern.join(":");
        const a = upper ? arn.join(":").toUpperCase() : arn.join(":");
        return compileArnPattern(p)(a) === refArn(p, a) && compileArnPattern(p, { ignoreCase: true })(a) === refArn(p.toLowerCase(), a.toLowerCase());
      }),
      RUNS,
    );
  });

  it("a pattern without '*' matches exactly one ARN: itself", () => {
    const pair = fc.integer({ min: 1, max: 6 }).chain((k) => fc.tuple(arnFields(k, k), arnFields(k, k), fc.boolean()));
    fc.assert(
      fc.property(pair, ([p, a, same]) => {
        const pattern = p.join(":");
        const arn = same ? pattern : a.join(":");
        return compileArnPattern(pattern)(arn) === (pattern === arn);
      }),
      RUNS,
    );
  });
});

describe("wildcardMatch and path globs (properties)", () => {
  it("wildcardMatch agrees with the reference glob", () => {
    fc.assert(fc.property(patternField, field, (p, t) => wildcardMatch(p, t) === refGlob(p, t)), RUNS);
  });

  const segment = fc.string({ unit: fc.constantFrom(..."ab.-_".split("")), maxLength: 4 });
  const globSegment = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(..."ab.-_*".split("")), maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant("**") },
  );
  const path = fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join("/")}`);
  const glob = fc.array(globSegment, { maxLength: 6 }).map((s) => `/${s.join("/")}`);

  /** Reference: segments, with `**` as any run of whole segments. */
  function refPath(g: string[], p: string[]): boolean {
    if (g.length === 0) return p.length === 0;
    if (g[0] === "**") return refPath(g.slice(1), p) || (p.length > 0 && refPath(g, p.slice(1)));
    return p.length > 0 && refGlob(g[0]!, p[0]!) && refPath(g.slice(1), p.slice(1));
  }

  it("a path glob agrees with the reference segment matcher", () => {
    fc.assert(
      fc.property(glob, path, (g, p) => compilePathGlob(g)(p) === refPath(g.split("/").slice(1), p.split("/").slice(1))),
      RUNS,
    );
  });

  it("without '**', a glob matches only paths with as many segments: '*' never crosses '/'", () => {
    const flatSegment = fc.string({ unit: fc.constantFrom(..."ab*".split("")), maxLength: 3 }).filter((s) => s !== "**");
    const flat = fc.array(flatSegment, { maxLength: 5 }).map((s) => `/${s.join("/")}`);
    fc.assert(
      fc.property(flat, path, (g, p) => !compilePathGlob(g)(p) || g.split("/").length === p.split("/").length),
      RUNS,
    );
  });

  it("/prefix/** matches exactly the prefix and what is under it", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom(..."ab".split("")), minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), path, (segs, p) => {
        const prefix = `/${segs.join("/")}`;
        return compilePathGlob(`${prefix}/**`)(p) === (p === prefix || p.startsWith(`${prefix}/`));
      }),
      RUNS,
    );
  });

  it("policyPath never hands a glob a '.' or '..' segment, an escape or a control character", () => {
    const raw = fc.string({ unit: fc.constantFrom(..."/a.;%2eEfF5cC0\\\n".split("")), maxLength: 16 });
    fc.assert(
      fc.property(raw, (s) => {
        const decoded = policyPath(new URL(`https://localhost/${s}`).pathname);
        if (decoded === null) return true;
        const dotted = decoded.split("/").some((seg) => [".", ".."].includes(seg.split(";")[0]!));
        return !dotted && !/[%\\\x00-\x1f\x7f]/.test(decoded);
      }),
      RUNS,
    );
  });
});

describe("policy schema and decisions (properties)", () => {
  const ACCOUNT = "111122223333";
  const anyText = fc.string({ unit: fc.constantFrom(..."aws-cngov*0123456789".split("")), maxLength: 14 });

  it("refuses every account field that is not 12 literal digits", () => {
    fc.assert(
      fc.property(anyText.filter((a) => !/^\d{12}$/.test(a)), (account) => {
        const doc = { allow: [`arn:aws:iam::${account}:role/deployer`] };
        return !PolicySchema.safeParse(doc).success && !PolicySchema.safeParse({ allow: [], deny: doc.allow }).success;
      }),
      RUNS,
    );
  });

  it("refuses every partition field that is not literally aws, aws-cn or aws-us-gov", () => {
    fc.assert(
      fc.property(anyText.filter((p) => !(PARTITIONS as readonly string[]).includes(p)), (partition) => {
        const pattern = `arn:${partition}:iam::${ACCOUNT}:role/deployer`;
        return !PolicySchema.safeParse({ allow: [pattern] }).success && !PolicySchema.safeParse({ allow: [], deny: [pattern] }).success;
      }),
      RUNS,
    );
  });

  it("deny wins over any allow: a principal matched by a deny pattern is never allowed", () => {
    const role = fc.string({ unit: fc.constantFrom(..."abc-".split("")), minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(role, fc.constantFrom("GET", "POST", "PUT", "DELETE"), fc.constantFrom("/", "/deploy/x", "/admin"), (name, method, path) => {
        const identity = identityFromSts(
          { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/session`, account: ACCOUNT, userId: "AROAEMULATORDEPLOYER1:session" },
          "aws",
        );
        const p = compilePolicy({
          rules: [{ name: "everything", allow: [`arn:aws:iam::${ACCOUNT}:*`] }],
          deny: [`arn:aws:iam::${ACCOUNT}:role/${name.slice(0, 1)}*`],
        });
        return !p.decide(identity, { method, path }).allowed;
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
