/**
 * One mutant per validation rule: a textual edit that switches the rule off. `npm run mutation`
 * applies each to a copy of the tree and runs the tests; every mutant must be killed (some test
 * fails). A mutant whose `find` text no longer exists fails the run, so this list cannot rot
 * silently when the code changes.
 */
export interface Mutant {
  rule: string;
  file: string;
  find: string;
  replace: string;
  /** The test files that guard the rule; default: every unit, integration and property test. */
  tests?: readonly string[];
}

/** The tests of the origin edge (ATTACKS #15–#23, #25), which kill its mutants in seconds. */
const EDGE_TESTS = [
  "test/integration/origin-edge.test.ts",
  "test/integration/forwarding.test.ts",
  "test/integration/policy.test.ts",
  "test/integration/stsauth.test.ts",
  "test/edge/header-hygiene.test.ts",
  "test/edge/path-boundary.test.ts",
  "test/wildcard.test.ts",
  "test/verify/rate-limit-key.test.ts",
  "test/edge/dev-wiring.test.ts",
  "test/policy/rules.test.ts",
  "test/policy/properties.test.ts",
  "test/integration/assertion-keys.test.ts",
];
/**
 * The tests that bound the matchers' work by counted steps on inputs small enough for a
 * backtracking matcher to finish; the integration tests' larger inputs would hang one.
 */
const LINEAR_TESTS = ["test/wildcard.test.ts", "test/policy/rules.test.ts"];
/** The endpoint table's tests (ATTACKS #1), and the token tests that look hosts up in it. */
const ENDPOINT_TESTS = ["test/sts-endpoints.test.ts", "test/token/presigned-url.test.ts", "test/token/validate.test.ts"];
/** The red-team round's tests (issue 18, ATTACKS #31–#33): through the Worker, and against real origin servers. */
const HARDENING_TESTS = [
  "test/integration/hardening.test.ts",
  "test/integration/two-paths.test.ts",
  "test/edge/header-hygiene.test.ts",
  "test/edge/method-override.test.ts",
  "test/origin/raw-target.test.ts",
  "test/origin/verify.test.ts",
  "test/revocation/paths.test.ts",
  "test/origins/php-origin.test.ts",
  "test/origins/raw-origin.test.ts",
  "test/origins/servlet-origin.test.ts",
];
/** The revocation tests (ATTACKS #24). */
const REVOCATION_TESTS = ["test/integration/revocation.test.ts", "test/revocation/revocation.test.ts"];

/** The tests of IAM Identity Center sessions (issue 22, ATTACKS #28): identity, origin, policy. */
const ISSUE22_TESTS = [
  "test/integration/identity-center.test.ts",
  "test/identity.test.ts",
  "test/origin/identity-center-claims.test.ts",
  "test/policy/identity-center.test.ts",
];
/** The proxy's rules (issue 22, ATTACKS #29), as pure functions in workerd. */
const PROXY_TESTS = ["test/cli/proxy-rules.test.ts"];

const ALL: Mutant[] = [
  // src/token/bearer.ts
  { rule: "bearerToken: size cap", file: "src/token/bearer.ts", find: "if (authorization.length > SCHEME.length + 1 + MAX_TOKEN_BYTES) {", replace: "if (false) {" },
  { rule: "bearerToken: exact scheme", file: "src/token/bearer.ts", find: "if (authorization.slice(0, SCHEME.length).toLowerCase() !== SCHEME) {", replace: "if (false) {" },
  { rule: "bearerToken: one space", file: "src/token/bearer.ts", find: 'if (!rest.startsWith(" ")) {', replace: "if (false) {" },
  { rule: "bearerToken: token_missing", file: "src/token/bearer.ts", find: "if (/^ *$/.test(rest)) {", replace: "if (false) {" },
  { rule: "bearerToken: visible ASCII", file: "src/token/bearer.ts", find: "if (!/^[\\x21-\\x7e]+$/.test(token)) {", replace: 'if (token === "") {' },
  // src/cors.ts
  { rule: "cors: only listed origins", file: "src/cors.ts", find: "return origin !== null && allowed.has(origin) ? origin : undefined;", replace: "return origin !== null ? origin : undefined;" },
  { rule: "cors: '*' refused", file: "src/cors.ts", find: 'if (entry.includes("*")) return', replace: "if (false) return" },
  { rule: "cors: exact origins", file: "src/cors.ts", find: "return url.origin === entry ? undefined : example;", replace: "return undefined;" },
  { rule: "cors: the origin's CORS headers dropped", file: "src/cors.ts", find: 'if (name.startsWith("access-control-")) res.headers.delete(name);', replace: "" },
  // src/token/decode.ts
  { rule: "tokenPrefix", file: "src/token/decode.ts", find: "if (!token.startsWith(TOKEN_PREFIX)) {", replace: "if (false) {" },
  { rule: "tokenBase64url: alphabet", file: "src/token/decode.ts", find: "if (v < 0) throw", replace: "if (false) throw" },
  { rule: "tokenBase64url: canonical tail", file: "src/token/decode.ts", find: "if (acc !== 0) throw", replace: "if (false) throw" },
  { rule: "tokenBase64url: length", file: "src/token/decode.ts", find: "if (n === 0 || n % 4 === 1) throw", replace: "if (n === 0) throw" },
  { rule: "tokenUtf8: fatal decoding", file: "src/token/decode.ts", find: 'new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })', replace: 'new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })' },
  // src/token/presigned-url.ts
  { rule: "presignedUrlShape: visible ASCII", file: "src/token/presigned-url.ts", find: "if (!/^[\\x21-\\x7e]+$/.test(text)) {", replace: "if (false) {" },
  { rule: "presignedUrlShape: https", file: "src/token/presigned-url.ts", find: "if (!text.startsWith(SCHEME)) {", replace: "if (false) {" },
  { rule: "presignedUrlShape: no fragment", file: "src/token/presigned-url.ts", find: 'if (text.includes("#")) {', replace: "if (false) {" },
  { rule: "presignedUrlShape: no userinfo", file: "src/token/presigned-url.ts", find: 'if (authority.includes("@")) {', replace: "if (false) {" },
  { rule: "presignedUrlShape: no port", file: "src/token/presigned-url.ts", find: 'if (authority.includes(":")) {', replace: "if (false) {" },
  { rule: "presignedUrlShape: path /", file: "src/token/presigned-url.ts", find: 'if (path !== "/") {', replace: "if (false) {" },
  { rule: "stsHost: table membership", file: "src/token/presigned-url.ts", find: "const endpoint = lookupStsEndpoint(authority);", replace: 'const endpoint = lookupStsEndpoint(authority) ?? lookupStsEndpoint("sts.amazonaws.com");' },
  // src/sts-endpoints.ts (ATTACKS #1): the table is the trust boundary
  { rule: "stsEndpoints: the table frozen", file: "src/sts-endpoints.ts", find: "export const STS_ENDPOINTS: readonly StsEndpoint[] = Object.freeze([", replace: "export const STS_ENDPOINTS: readonly StsEndpoint[] = ([", tests: ENDPOINT_TESTS },
  { rule: "stsEndpoints: rows frozen", file: "src/sts-endpoints.ts", find: "return regions.map((region) => Object.freeze({ host: hostFor(region), region, partition, ...flags }));", replace: "return regions.map((region) => ({ host: hostFor(region), region, partition, ...flags }));", tests: ENDPOINT_TESTS },
  { rule: "stsEndpoints: exact lookup", file: "src/sts-endpoints.ts", find: "return BY_HOST.get(host);", replace: 'return BY_HOST.get(host.toLowerCase().replace(/\\.$/, ""));', tests: ENDPOINT_TESTS },
  { rule: "stsEndpoints: the global host signs for us-east-1", file: "src/sts-endpoints.ts", find: 'Object.freeze({ host: "sts.amazonaws.com", region: "us-east-1"', replace: 'Object.freeze({ host: "sts.amazonaws.com", region: "us-west-2"', tests: ENDPOINT_TESTS },
  { rule: "stsEndpoints: FIPS hosts only where AWS lists them", file: "src/sts-endpoints.ts", find: '...regional("aws", AWS_FIPS_REGIONS, (r) => `sts-fips.${r}.amazonaws.com`, FIPS),', replace: '...regional("aws", AWS_REGIONS, (r) => `sts-fips.${r}.amazonaws.com`, FIPS),', tests: ENDPOINT_TESTS },
  { rule: "stsEndpoints: GovCloud in its own partition", file: "src/sts-endpoints.ts", find: '...regional("aws-us-gov", GOV_REGIONS, (r) => `sts.${r}.amazonaws.com`, FIPS),', replace: '...regional("aws", GOV_REGIONS, (r) => `sts.${r}.amazonaws.com`, FIPS),', tests: ENDPOINT_TESTS },
  { rule: "stsEndpoints: China in its own partition", file: "src/sts-endpoints.ts", find: '...regional("aws-cn", CN_REGIONS, (r) => `sts.${r}.amazonaws.com.cn`, PLAIN),', replace: '...regional("aws", CN_REGIONS, (r) => `sts.${r}.amazonaws.com.cn`, PLAIN),', tests: ENDPOINT_TESTS },
  // src/token/query.ts
  { rule: "strictQuery: name=value", file: "src/token/query.ts", find: 'if (eq === -1) throw new GateError("query_malformed"', replace: 'if (false) throw new GateError("query_malformed"' },
  { rule: "strictQuery: empty name", file: "src/token/query.ts", find: 'if (rawName === "") throw', replace: "if (false) throw" },
  { rule: "strictQuery: raw characters and escapes", file: "src/token/query.ts", find: "if (!RAW_COMPONENT.test(rawName) || !RAW_COMPONENT.test(rawValue)) {", replace: "if (false) {" },
  { rule: "strictQuery: duplicates", file: "src/token/query.ts", find: "if (seen.has(folded)) {", replace: "if (false) {" },
  { rule: "strictQuery: duplicates in any case", file: "src/token/query.ts", find: "const folded = name.toLowerCase();", replace: "const folded = name;" },
  { rule: "strictQuery: allowed names", file: "src/token/query.ts", find: "if (!ALLOWED.has(name)) {", replace: "if (false) {" },
  // src/token/validate.ts
  { rule: "requiredParameters", file: "src/token/validate.ts", find: 'if (params[name] === undefined) throw new GateError("parameter_missing"', replace: 'if (false) throw new GateError("parameter_missing"' },
  { rule: "actionIsGetCallerIdentity", file: "src/token/validate.ts", find: 'if (action !== "GetCallerIdentity") throw', replace: "if (false) throw" },
  { rule: "versionIs20110615", file: "src/token/validate.ts", find: 'if (version !== "2011-06-15") throw', replace: "if (false) throw" },
  { rule: "algorithmIsSigV4", file: "src/token/validate.ts", find: 'if (algorithm !== "AWS4-HMAC-SHA256") throw', replace: "if (false) throw" },
  { rule: "signedHeadersExact", file: "src/token/validate.ts", find: "if (signedHeaders !== REQUIRED_SIGNED_HEADERS) {", replace: "if (false) {" },
  { rule: "signatureShape", file: "src/token/validate.ts", find: "if (!/^[0-9a-f]{64}$/.test(signature)) {", replace: "if (false) {" },
  { rule: "amzDateShape: pattern", file: "src/token/validate.ts", find: 'if (m === null) throw new GateError("date_malformed"', replace: 'if (m === null) return Date.now(); if (false) throw new GateError("date_malformed"' },
  { rule: "amzDateShape: real calendar instant", file: "src/token/validate.ts", find: "    back.getUTCFullYear() !== y ||", replace: "    false && back.getUTCFullYear() !== y &&" },
  { rule: "credentialScope: shape", file: "src/token/validate.ts", find: "const CREDENTIAL = /^([A-Z0-9]{16,128})\\/(\\d{8})\\/([a-z0-9-]{1,32})\\/sts\\/aws4_request$/;", replace: "const CREDENTIAL = /^([^/]+)\\/(\\d{8})\\/([^/]+)\\/[^/]+\\/[^/]+$/;" },
  { rule: "credentialScope: date", file: "src/token/validate.ts", find: "if (date !== amzDate.slice(0, 8)) {", replace: "if (false) {" },
  { rule: "credentialScope: region", file: "src/token/validate.ts", find: "if (region !== endpoint.region) {", replace: "if (false) {" },
  { rule: "expiresRange", file: "src/token/validate.ts", find: "if (!/^(0|[1-9][0-9]{0,2})$/.test(expires) || Number(expires) > MAX_EXPIRES_SECONDS) {", replace: "if (false) {" },
  { rule: "lifetime: not in the future", file: "src/token/validate.ts", find: "if (signedAt > now + MAX_CLOCK_SKEW_MS) {", replace: "if (false) {" },
  { rule: "lifetime: 15 minutes", file: "src/token/validate.ts", find: "if (now >= expiresAt) throw", replace: "if (false) throw" },
  // src/sts/exchange.ts
  { rule: "rebuildUpstream: each value re-encoded (src/protocol.ts presignedQuery)", file: "src/protocol.ts", find: "[`${name}=${encodeRfc3986(values[name])}`]", replace: "[`${name}=${values[name]}`]", tests: ["test/sts/exchange.test.ts", "test/client/token.test.ts"] },
  { rule: "rebuildUpstream: exact headers", file: "src/sts/exchange.ts", find: 'headers: { [AUDIENCE_HEADER]: audience, accept: "application/json" },', replace: 'headers: { [AUDIENCE_HEADER]: audience },' },
  { rule: "rebuildUpstream: the endpoint table's host", file: "src/sts/exchange.ts", find: "`https://${token.endpoint.host}/?${query}`", replace: "`https://sts.amazonaws.com/?${query}`" },
  { rule: "rebuildUpstream: GET", file: "src/sts/exchange.ts", find: '    method: "GET",\n    headers: { [AUDIENCE_HEADER]', replace: '    method: "POST",\n    headers: { [AUDIENCE_HEADER]' },
  { rule: "rebuildUpstream: no body", file: "src/sts/exchange.ts", find: '    method: "GET",\n    headers: { [AUDIENCE_HEADER]', replace: '    method: "POST",\n    body: query,\n    headers: { [AUDIENCE_HEADER]' },
  { rule: "rebuildUpstream: redirects not followed", file: "src/sts/exchange.ts", find: '    redirect: "manual",\n    signal,', replace: '    redirect: "follow",\n    signal,' },
  { rule: "stsLimits: the STS deadline", file: "src/sts/exchange.ts", find: "return await withDeadline(exchange(), { ms: options.timeoutMs,", replace: "return await withDeadline(exchange(), { ms: options.timeoutMs * 60," },
  { rule: "stsLimits: 64 KiB on a declared Content-Length", file: "src/sts/exchange.ts", find: 'if (bytes.byteLength > max) throw new GateError("sts_bad_response"', replace: 'if (false) throw new GateError("sts_bad_response"' },
  { rule: "stsLimits: a declared Content-Length over 64 KiB refused unread", file: "src/sts/exchange.ts", find: "  if (declared > max) {", replace: "  if (false) {" },
  { rule: "stsResponse: HTTP 429 is sts_throttled", file: "src/sts/exchange.ts", find: 'if (status === 429) throw new GateError("sts_throttled"', replace: 'if (false) throw new GateError("sts_throttled"' },
  { rule: "stsResponse: redirects fail", file: "src/sts/exchange.ts", find: "if (status >= 300 && status < 400) {", replace: "if (false) {" },
  { rule: "stsResponse: JSON content type", file: "src/sts/exchange.ts", find: 'if (!isJson(response)) throw new GateError("sts_bad_response", "STS answered 200', replace: 'if (false) throw new GateError("sts_bad_response", "STS answered 200' },
  { rule: "stsResponse: exact schema", file: "src/sts/exchange.ts", find: "const GetCallerIdentityResponse = z.strictObject({\n  GetCallerIdentityResponse: z.strictObject({\n    GetCallerIdentityResult: z.strictObject({", replace: "const GetCallerIdentityResponse = z.object({\n  GetCallerIdentityResponse: z.object({\n    GetCallerIdentityResult: z.object({" },
  { rule: "stsResponse: body cap", file: "src/sts/exchange.ts", find: "    if (size > max) {", replace: "    if (false) {" },
  { rule: "stsResponse: throttling is 503", file: "src/sts/exchange.ts", find: "if (code !== undefined && THROTTLING_CODES.has(code)) throw", replace: "if (false) throw" },
  // src/identity.ts
  { rule: "identityFromArn: partition", file: "src/identity.ts", find: "if (partition !== expectedPartition) {", replace: "if (false) {" },
  { rule: "identityFromArn: Account", file: "src/identity.ts", find: "if (answer.account !== account) {", replace: "if (false) {" },
  { rule: "identityFromArn: UserId", file: "src/identity.ts", find: "if (!shape.userId(account, m).test(answer.userId)) {", replace: "if (false) {" },
  // src/policy/
  { rule: "principalTypes opt-in", file: "src/policy/evaluate.ts", find: "if (!types.has(identity.type)) {", replace: "if (false) {" },
  { rule: "arnPatternFieldByField: field count", file: "src/policy/match.ts", find: "if (parts.length !== fields.length) return false;", replace: "" },
  { rule: "arnPatternFieldByField: * stays in a field", file: "src/policy/match.ts", find: '.split(":").map(compileWildcard);', replace: '.split(":").map(compileWildcard); const whole = compileWildcard(ignoreCase ? pattern.toLowerCase() : pattern); if (whole) return (arn: string) => whole(ignoreCase ? arn.toLowerCase() : arn);' },
  { rule: "policy: literal account in patterns", file: "src/policy/schema.ts", find: "if (!/^\\d{12}$/.test(account)) {", replace: "if (false) {" },
  { rule: "policy: literal partition in patterns", file: "src/policy/schema.ts", find: "if (!(PARTITIONS as readonly string[]).includes(partition)) {", replace: "if (false) {" },
  { rule: "policy: accounts allowlist", file: "src/policy/evaluate.ts", find: "if (!accounts.has(identity.account)) return denied(", replace: "if (false) return denied(" },
  { rule: "policy: deny wins over allow", file: "src/policy/evaluate.ts", find: "if (d.match(identity)) return denied(", replace: "if (false) return denied(" },
  { rule: "policy: unique-ID pin", file: "src/policy/evaluate.ts", find: "if (uniqueIdOf(identity) !== pinned) return denied(", replace: "if (false) return denied(" },
  { rule: "policy: deny in any letter case", file: "src/policy/evaluate.ts", find: "compileEntry(entry, { ignoreCase: true })", replace: "compileEntry(entry)" },
  { rule: "policy: pin keys folded", file: "src/policy/evaluate.ts", find: "[arn.toLowerCase(), id]", replace: "[arn, id]" },
  { rule: "policy: pin lookup folds case", file: "src/policy/evaluate.ts", find: "const pinned = pins.get(identity.principal.toLowerCase());", replace: "const pinned = pins.get(identity.principal);" },
  { rule: "policy: rule methods", file: "src/policy/evaluate.ts", find: "if (rule.methods !== undefined && !rule.methods.has(request.method)) {", replace: "if (false) {" },
  { rule: "policy: rule paths", file: "src/policy/evaluate.ts", find: "if (!rule.paths.some((p) => p.match(path))) {", replace: "if (false) {" },
  // src/origin/verify.ts (the origin's check of the gate's assertion)
  { rule: "verifyCaller: htm", file: "src/origin/verify.ts", find: "if (payload.htm !== request.method) {", replace: "if (false) {" },
  { rule: "verifyCaller: htu", file: "src/origin/verify.ts", find: "if (payload.htu !== target) {", replace: "if (false) {" },
  { rule: "verifyCaller: algorithms", file: "src/origin/verify.ts", find: "      algorithms: [...(options.algorithms ?? ASSERTION_ALGORITHMS)],\n", replace: "" },
  { rule: "verifyCaller: typ", file: "src/origin/verify.ts", find: "      typ: ASSERTION_TYP,\n", replace: "" },
  { rule: "verifyCaller: issuer", file: "src/origin/verify.ts", find: "      issuer: options.issuer,\n", replace: "" },
  { rule: "verifyCaller: audience", file: "src/origin/verify.ts", find: "      audience: options.audience,\n", replace: "" },
  { rule: "verifyCaller: fails closed without an issuer", file: "src/origin/verify.ts", find: 'if (typeof options.issuer !== "string" || options.issuer === "") throw', replace: "if (false) throw" },
  { rule: "verifyCaller: fails closed without an audience", file: "src/origin/verify.ts", find: 'if (typeof options.audience !== "string" || options.audience === "") throw', replace: "if (false) throw" },
  { rule: "verifyCaller: principal_type", file: "src/origin/verify.ts", find: "if (!(CALLER_PRINCIPAL_TYPES as readonly string[]).includes(principalType)) {", replace: "if (false) {" },
  { rule: "verifyCaller: account", file: "src/origin/verify.ts", find: "if (!/^\\d{12}$/.test(account)) throw new CallerVerificationError(", replace: "if (false) throw new CallerVerificationError(" },
  // src/forward.ts
  // src/edge/header-hygiene.ts (ATTACKS #15–#19)
  { rule: "headerHygiene: Authorization", file: "src/edge/header-hygiene.ts", find: '  { name: "authorization", reason:', replace: '  { name: "x-unused-1", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: Proxy-Authorization", file: "src/edge/header-hygiene.ts", find: '  { name: "proxy-authorization", reason:', replace: '  { name: "x-unused-2", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: X-Caller-*", file: "src/edge/header-hygiene.ts", find: "return folded.startsWith(CALLER_HEADER_PREFIX) || folded.startsWith(FORWARDED_HEADER_PREFIX) || STRIPPED.has(folded);", replace: "return folded.startsWith(FORWARDED_HEADER_PREFIX) || STRIPPED.has(folded);", tests: EDGE_TESTS },
  { rule: "headerHygiene: '_' read as '-'", file: "src/edge/header-hygiene.ts", find: 'return name.toLowerCase().replaceAll("_", "-");', replace: "return name.toLowerCase();", tests: EDGE_TESTS },
  { rule: "headerHygiene: method overrides", file: "src/edge/header-hygiene.ts", find: '  { name: "x-http-method-override", reason:', replace: '  { name: "x-unused-3", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: X-HTTP-Method", file: "src/edge/header-hygiene.ts", find: '  { name: "x-http-method", reason:', replace: '  { name: "x-unused-4", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: URL overrides", file: "src/edge/header-hygiene.ts", find: '  { name: "x-original-url", reason:', replace: '  { name: "x-unused-5", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: X-Rewrite-URL", file: "src/edge/header-hygiene.ts", find: '  { name: "x-rewrite-url", reason:', replace: '  { name: "x-unused-6", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: client's Forwarded", file: "src/edge/header-hygiene.ts", find: '  { name: "forwarded", reason:', replace: '  { name: "x-unused-7", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: every X-Forwarded-*", file: "src/edge/header-hygiene.ts", find: "folded.startsWith(CALLER_HEADER_PREFIX) || folded.startsWith(FORWARDED_HEADER_PREFIX) || STRIPPED.has(folded)", replace: "folded.startsWith(CALLER_HEADER_PREFIX) || STRIPPED.has(folded)", tests: EDGE_TESTS },
  { rule: "headerHygiene: X-Method-Override", file: "src/edge/header-hygiene.ts", find: '  { name: "x-method-override", reason:', replace: '  { name: "x-unused-9", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: X-Original-URI", file: "src/edge/header-hygiene.ts", find: '  { name: "x-original-uri", reason:', replace: '  { name: "x-unused-10", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: X-Real-IP", file: "src/edge/header-hygiene.ts", find: '  { name: "x-real-ip", reason:', replace: '  { name: "x-unused-11", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: True-Client-IP", file: "src/edge/header-hygiene.ts", find: '  { name: "true-client-ip", reason:', replace: '  { name: "x-unused-12", reason:', tests: EDGE_TESTS },
  { rule: "headerHygiene: gate writes X-Forwarded-Proto", file: "src/edge/header-hygiene.ts", find: 'headers.set("X-Forwarded-Proto", client.url.protocol.slice(0, -1));', replace: "", tests: EDGE_TESTS },
  { rule: "headerHygiene: underscore aliases of other headers", file: "src/edge/header-hygiene.ts", find: 'return name.includes("_") && (folded.startsWith("cf-") || inboundFolded.has(folded));', replace: "return false;", tests: EDGE_TESTS },
  { rule: "headerHygiene: gate writes X-Forwarded-For", file: "src/edge/header-hygiene.ts", find: 'if (client.ip !== undefined) headers.set("X-Forwarded-For", client.ip);', replace: "", tests: EDGE_TESTS },
  { rule: "headerHygiene: gate writes X-Forwarded-Host", file: "src/edge/header-hygiene.ts", find: 'headers.set("X-Forwarded-Host", client.url.host);', replace: "", tests: EDGE_TESTS },
  // src/edge/path-boundary.ts (ATTACKS #20)
  { rule: "originPathBoundary: encoded separators", file: "src/edge/path-boundary.ts", find: "  if (/[/\\\\]/.test(folded)) return true;\n", replace: "", tests: EDGE_TESTS },
  { rule: "originPathBoundary: ';' parameters", file: "src/edge/path-boundary.ts", find: 'const bare = folded.split("\\0")[0]!.split(";")[0]!;', replace: 'const bare = folded.split("\\0")[0]!;', tests: EDGE_TESTS },
  { rule: "originPathBoundary: escapes decoded", file: "src/edge/path-boundary.ts", find: "  if (!/%[0-9a-f]{2}/i.test(wide)) return wide;", replace: "  return wide;", tests: EDGE_TESTS },
  { rule: "originPathBoundary: checked before forwarding", file: "src/forward.ts", find: "  checkOriginPath(options.originUrl.pathname, incoming.pathname);\n", replace: "", tests: EDGE_TESTS },
  { rule: "originPathBoundary: decoded again and again", file: "src/edge/path-boundary.ts", find: "    if (decoded === segment) break;", replace: "    if (decoded === segment || i === 0) { segment = decoded; break; }", tests: EDGE_TESTS },
  { rule: "originPathBoundary: %uXXXX", file: "src/edge/path-boundary.ts", find: 'const wide = text.replace(/%u([0-9a-f]{4})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));', replace: "const wide = text;", tests: EDGE_TESTS },
  { rule: "originPathBoundary: NFKC fold", file: "src/edge/path-boundary.ts", find: 'const folded = segment.normalize("NFKC");', replace: "const folded = segment;", tests: EDGE_TESTS },
  { rule: "originPathBoundary: cut at NUL", file: "src/edge/path-boundary.ts", find: 'const bare = folded.split("\\0")[0]!.split(";")[0]!;', replace: 'const bare = folded.split(";")[0]!;', tests: EDGE_TESTS },
  { rule: "originPathBoundary: escapes must be UTF-8", file: "src/edge/path-boundary.ts", find: 'new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })', replace: 'new TextDecoder("latin1")', tests: EDGE_TESTS },
  // src/edge/method-override.ts (ATTACKS #17)
  { rule: "noMethodOverrideParameter", file: "src/edge/method-override.ts", find: "if (isMethodOverrideName(name)) {", replace: "if (false) {", tests: EDGE_TESTS },
  { rule: "noMethodOverrideParameter: checked before forwarding", file: "src/forward.ts", find: "  checkNoMethodOverride(incoming.search);\n", replace: "", tests: EDGE_TESTS },
  // src/wildcard.ts (ATTACKS #21): a backtracking matcher (counting its steps as the real one
  // does) exceeds the step bounds of the tests on hostile patterns
  { rule: "linearWildcard: no backtracking", file: "src/wildcard.ts", find: "export function wildcardMatch(pattern: string, text: string): boolean {\n", replace: 'export function wildcardMatch(pattern: string, text: string): boolean {\n  const bt = (p: number, t: number): boolean => (matcherWork.steps++, p === pattern.length ? t === text.length : pattern[p] === "*" ? bt(p + 1, t) || (t < text.length && bt(p, t + 1)) : t < text.length && pattern[p] === text[t] && bt(p + 1, t + 1));\n  return bt(0, 0);\n', tests: LINEAR_TESTS },
  { rule: "linearWildcard: ** segments without backtracking", file: "src/wildcard.ts", find: "export function compileSequence<T>(pattern: ReadonlyArray<((element: T) => boolean) | typeof STAR>): (text: readonly T[]) => boolean {\n", replace: "export function compileSequence<T>(pattern: ReadonlyArray<((element: T) => boolean) | typeof STAR>): (text: readonly T[]) => boolean {\n  const bt = (p: number, t: number, text: readonly T[]): boolean => (matcherWork.steps++, p === pattern.length ? t === text.length : pattern[p] === STAR ? bt(p + 1, t, text) || (t < text.length && bt(p, t + 1, text)) : t < text.length && (pattern[p] as (e: T) => boolean)(text[t]!) && bt(p + 1, t + 1, text));\n  return (text) => bt(0, 0, text);\n", tests: LINEAR_TESTS },
  { rule: "policy: request path segment cap", file: "src/policy/match.ts", find: '  if (decoded.split("/").length - 1 > MAX_PATH_SEGMENTS) return null;\n', replace: "", tests: EDGE_TESTS },
  // policyPath (ATTACKS #20): a path origins could read differently matches no paths glob
  { rule: "policyPath: encoded '/' and '\\'", file: "src/policy/match.ts", find: "  if (/%(2f|5c)/i.test(pathname)) return null;\n", replace: "", tests: EDGE_TESTS },
  { rule: "policyPath: control characters", file: "src/policy/match.ts", find: "\\x00-\\x1f\\x7f]/.test(decoded)", replace: "]/.test(decoded)", tests: EDGE_TESTS },
  { rule: "policyPath: '%' after decoding", file: "src/policy/match.ts", find: "/[\\\\%", replace: "/[\\\\", tests: EDGE_TESTS },
  { rule: "policyPath: '\\' after decoding", file: "src/policy/match.ts", find: "/[\\\\%", replace: "/[%", tests: EDGE_TESTS },
  { rule: "policyPath: '..;' segments", file: "src/policy/match.ts", find: "%;\\x00-\\x1f", replace: "%\\x00-\\x1f", tests: EDGE_TESTS },
  { rule: "policy: glob segment cap", file: "src/policy/schema.ts", find: "  if (glob.split(\"/\").length - 1 > MAX_GLOB_SEGMENTS) return `must have at most ${MAX_GLOB_SEGMENTS} segments`;\n", replace: "", tests: EDGE_TESTS },
  // src/rate-limit-key.ts (ATTACKS #22)
  { rule: "rateLimitKeyPerSlash64", file: "src/verify/rate-limit-key.ts", find: 'return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;', replace: 'return groups.map((g) => g.toString(16)).join(":");', tests: EDGE_TESTS },
  { rule: "rateLimit: before the KV read", file: "src/verify/verifier.ts", find: "    if (options.rateLimiter) await admitUpstream(options.rateLimiter, context.clientKey ?? \"unknown\");\n", replace: "", tests: EDGE_TESTS },
  { rule: "rateLimit: before the KV read, not after", file: "src/verify/verifier.ts", find: "    if (options.rateLimiter) await admitUpstream(options.rateLimiter, context.clientKey ?? \"unknown\");\n    const now = clock();\n    // 2. KV: another isolate's verification of this very token.\n    const fromKv = options.kv ? await readIdentity(options.kv, key, token, now) : undefined;\n", replace: "    const now = clock();\n    const fromKv = options.kv ? await readIdentity(options.kv, key, token, now) : undefined;\n    if (!fromKv && options.rateLimiter) await admitUpstream(options.rateLimiter, context.clientKey ?? \"unknown\");\n", tests: EDGE_TESTS },
  // src/edge/dev-wiring.ts and src/gate/routes.ts (ATTACKS #23)
  { rule: "devWiringLoopbackOnly: STS binding", file: "src/edge/dev-wiring.ts", find: "if (config.sts !== undefined) reasons.push(", replace: "if (false) reasons.push(", tests: EDGE_TESTS },
  { rule: "devWiringLoopbackOnly: committed key", file: "src/edge/dev-wiring.ts", find: "if (publicKey !== undefined && (COMMITTED_KEYS.has(publicKey) || alsoCommitted.has(publicKey))) {", replace: "if (false) {", tests: EDGE_TESTS },
  { rule: "devWiringLoopbackOnly: loopback hosts only", file: "src/edge/dev-wiring.ts", find: 'new Set(["localhost", "127.0.0.1", "[::1]"])', replace: 'new Set(["localhost", "127.0.0.1", "[::1]", "gate.example.com", "127.0.0.2"])', tests: EDGE_TESTS },
  { rule: "assertionSigner: d must belong to x", file: "src/assertion/signer.ts", find: "if (!(await keysMatch(key, publicKey, alg))) {", replace: "if (false) {", tests: ["test/integration/assertion-keys.test.ts"] },
  { rule: "assertionSigner: bound to the request's method", file: "src/assertion/signer.ts", find: "htm: request.method,", replace: 'htm: "GET",', tests: ["test/integration/assertion.test.ts"] },
  { rule: "assertionSigner: short-lived", file: "src/assertion/signer.ts", find: "exp: iat + ASSERTION_LIFETIME_SECONDS,", replace: "exp: iat + 3600,", tests: ["test/integration/assertion.test.ts"] },
  { rule: "assertionKeys: canonical base64url", file: "src/assertion/keys.ts", find: "/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/", replace: "/^[A-Za-z0-9_-]{43}$/", tests: EDGE_TESTS },
  // src/denial.ts and src/middleware.ts (ATTACKS #25)
  { rule: "denialWithoutPolicy", file: "src/authorize.ts", find: "throw new GateError(verdict.code, denialDetail(identity, facts));", replace: "throw new GateError(verdict.code, `Denied: ${verdict.reason}.`);", tests: EDGE_TESTS },
  { rule: "forward: redirects not followed", file: "src/forward.ts", find: 'redirect: "manual",', replace: 'redirect: "follow",' },
  // src/verify/ (the one verifier and its storage)
  { rule: "refusedTokenMemory", file: "src/verify/verifier.ts", find: 'if (error instanceof GateError && error.code === "sts_refused") memory.refused.set(', replace: "if (false) memory.refused.set(" },
  { rule: "refusedTokenMemory: checked before the local rules", file: "src/verify/verifier.ts", find: "        if (refusal) throw new GateError(refusal.code, refusal.detail);", replace: "" },
  { rule: "kvMinimumTtl", file: "src/verify/kv-store.ts", find: "if (expiration < Math.ceil(now / 1000) + KV_MIN_TTL_SECONDS) return;", replace: "" },
  { rule: "kvEntry: re-checked as STS's answer", file: "src/verify/kv-store.ts", find: "const answer: StsAnswer = { arn: entry.arn, account: entry.account, userId: entry.userId };", replace: 'const answer: StsAnswer = { arn: entry.arn, account: entry.arn.split(":")[4]!, userId: entry.userId };' },
  { rule: "kvEntry: stored for this token's expiry", file: "src/verify/kv-store.ts", find: "if (entry.expiresAt !== token.expiresAt || now >= token.expiresAt) return undefined;", replace: "if (now >= token.expiresAt) return undefined;" },
  { rule: "kvEntry: not past the token's expiry", file: "src/verify/kv-store.ts", find: "if (entry.expiresAt !== token.expiresAt || now >= token.expiresAt) return undefined;", replace: "if (entry.expiresAt !== token.expiresAt) return undefined;" },
  { rule: "sharedInflightCalls", file: "src/verify/single-flight.ts", find: "    if (pending) return { value: await pending, shared: true };\n", replace: "" },
  { rule: "isolateMemory: entries expire with their tokens", file: "src/verify/lru.ts", find: "    if (now >= hit.expiresAt) return undefined;", replace: "" },
  { rule: "isolateMemory: bounded", file: "src/verify/lru.ts", find: "    if (this.map.size > this.max) {", replace: "    if (false) {" },
  { rule: "cacheKeyHasAudience", file: "src/verify/cache-key.ts", find: "`sts-gate/v1\\n${audience}\\n${token}`", replace: "`sts-gate/v1\\n${token}`" },
  // src/revocation/ and its hooks (ATTACKS row 24: revocation at the edge)
  { rule: "revocationBeforeSts", file: "src/verify/verifier.ts", find: "await revocations?.check({ accessKeyId: token.accessKeyId });", replace: "", tests: REVOCATION_TESTS },
  { rule: "revocationEveryRequest", file: "src/verify/verifier.ts", find: "await revocations?.check({ accessKeyId: resolved.accessKeyId, identity: resolved.identity });", replace: "", tests: REVOCATION_TESTS },
  { rule: "revocationMatch: accessKeyId", file: "src/revocation/match.ts", find: "return entry.value === accessKeyId;", replace: "return false;", tests: REVOCATION_TESTS },
  { rule: "revocationMatch: account", file: "src/revocation/match.ts", find: "return identity !== undefined && entry.value === identity.account;", replace: "return false;", tests: REVOCATION_TESTS },
  { rule: "revocationMatch: canonical principal", file: "src/revocation/match.ts", find: "return wanted === identity.principal.toLowerCase() || wanted === identity.arn.toLowerCase();", replace: "return wanted === identity.arn.toLowerCase();", tests: REVOCATION_TESTS },
  { rule: "revocationMatch: exact ARN", file: "src/revocation/match.ts", find: "return wanted === identity.principal.toLowerCase() || wanted === identity.arn.toLowerCase();", replace: "return wanted === identity.principal.toLowerCase();", tests: REVOCATION_TESTS },
  { rule: "revocationMatch: regardless of case", file: "src/revocation/match.ts", find: "const wanted = entry.value.toLowerCase();", replace: "const wanted = entry.value;", tests: REVOCATION_TESTS },
  { rule: "revocationExpiry", file: "src/revocation/match.ts", find: "if (entry.expiresAt !== undefined && now >= entry.expiresAt) continue;", replace: "", tests: REVOCATION_TESTS },
  { rule: "revocationRefresh: on the bound", file: "src/revocation/snapshot.ts", find: "if (now - this.copiedAt >= REVOCATION_REFRESH_MS && !(usable && now < this.retryAt)) {", replace: "if (this.copy === undefined) {", tests: REVOCATION_TESTS },
  { rule: "revocationRefresh: at most 60 s", file: "src/revocation/snapshot.ts", find: "export const REVOCATION_REFRESH_MS = 30_000;", replace: "export const REVOCATION_REFRESH_MS = 300_000;", tests: REVOCATION_TESTS },
  { rule: "revocationRefresh: fails closed", file: "src/revocation/snapshot.ts", find: "if (this.copy === undefined || age >= REVOCATION_MAX_STALE_MS) {", replace: "if (false) {", tests: REVOCATION_TESTS },
  { rule: "revocationLocalApply: revoke", file: "src/revocation/admin-api.ts", find: "snapshot.added(entry);", replace: "", tests: REVOCATION_TESTS },
  { rule: "revocationLocalApply: unrevoke", file: "src/revocation/admin-api.ts", find: "snapshot.removed(entry.id);", replace: "", tests: REVOCATION_TESTS },
  { rule: "revocationPerEntryKey", file: "src/revocation/store.ts", find: "await this.kv.put(REVOCATION_PREFIX + entry.id, JSON.stringify(entry), options);", replace: 'await this.kv.put(REVOCATION_PREFIX + "all", JSON.stringify(entry), options);', tests: REVOCATION_TESTS },
  { rule: "revocation adminsOnly: admins grant", file: "src/policy/evaluate.ts", find: 'if (grants === "admins") {', replace: "if (false) {", tests: REVOCATION_TESTS },
  { rule: "revocation adminsOnly: pattern", file: "src/policy/evaluate.ts", find: "const hit = admins.find((a) => a.match(identity));", replace: "const hit = admins[0];", tests: REVOCATION_TESTS },
  { rule: "revocation gatePrefix: whole prefix", file: "src/revocation/paths.ts", find: "return folded === GATE_PREFIX || folded.startsWith(`${GATE_PREFIX}/`);", replace: "return folded.startsWith(`${GATE_PREFIX}/revocations`);", tests: REVOCATION_TESTS },
  { rule: "revocation gatePrefix: decoded", file: "src/revocation/paths.ts", find: "      return decodeURIComponent(run);", replace: "      return run;", tests: [...REVOCATION_TESTS, ...HARDENING_TESTS] },
  { rule: "revocation gatePrefix: repeated slashes", file: "src/revocation/paths.ts", find: '\n    .replace(/\\/{2,}/g, "/");', replace: ";", tests: REVOCATION_TESTS },
  { rule: "revocation gatePrefix: any case", file: "src/revocation/paths.ts", find: "    .toLowerCase()\n", replace: "", tests: REVOCATION_TESTS },
  { rule: "revocationInput: unknown fields", file: "src/revocation/entry.ts", find: "if (unknown.length > 0) {", replace: "if (false) {", tests: REVOCATION_TESTS },
  { rule: "revocationInput: one selector", file: "src/revocation/entry.ts", find: 'if (given.length > 1) return fail("selector_multiple"', replace: 'if (false) return fail("selector_multiple"', tests: REVOCATION_TESTS },
  { rule: "revocationInput: key shape", file: "src/revocation/entry.ts", find: "export const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;", replace: "export const ACCESS_KEY_ID = /^.+$/;", tests: REVOCATION_TESTS },
  { rule: "revocationInput: principal shape", file: "src/revocation/entry.ts", find: "if (PRINCIPAL.test(arn)) return undefined;", replace: "return undefined;", tests: REVOCATION_TESTS },
  { rule: "revocationInput: account shape", file: "src/revocation/entry.ts", find: 'if (kind === "account" && (typeof value !== "string" || !ACCOUNT_ID.test(value))) {', replace: "if (false) {", tests: REVOCATION_TESTS },
  { rule: "revocationInput: future expiresAt", file: "src/revocation/entry.ts", find: 'if (at <= now) return fail("expires_at_past"', replace: 'if (false) return fail("expires_at_past"', tests: REVOCATION_TESTS },
  // src/observe/ (observability: nothing silent, nothing misreported)
  { rule: "observe: unexpected error is error 500", file: "src/observe/decision.ts", find: "} else if (error !== undefined && status >= 500) {", replace: "} else if (false) {" },
  { rule: "observe: federated-user and root at warn", file: "src/observe/decision.ts", find: 'WATCHED_TYPES.has(this.identity.type ?? "") ? "warn"', replace: 'false ? "warn"' },
  { rule: "observe: origin status in the line", file: "src/observe/decision.ts", find: "this.origin = { originStatus: response.status, originMs: Date.now() - started };", replace: "this.origin = { originMs: Date.now() - started };" },
  { rule: "observe: status the client got", file: "src/observe/decision.ts", find: "this.finish({ status: c.res.status, error: c.error });", replace: "this.finish({ status: 200, error: c.error });" },
  { rule: "observe: request id to the origin", file: "src/forward.ts", find: "if (options.requestId !== undefined) headers.set(REQUEST_ID_HEADER, options.requestId);", replace: "" },
  { rule: "observe: misconfiguration logged on every request", file: "src/observe/misconfigured.ts", find: "for (const issue of failure.issues) {", replace: "for (const issue of Object.isFrozen(failure) ? [] : (Object.freeze(failure), failure.issues)) {" },
  { rule: "observe: a failing METRICS fails nothing", file: "src/observe/metrics.ts", find: "  } catch (error) {\n    warn(error);\n  }", replace: "  } catch (error) {\n    throw error;\n  }" },

  // issue 18: the red-team round against PHP and servlet origins (ATTACKS #31–#33) and the request path's edges
  // 1. headerNameCharset (ATTACKS #31)
  { rule: "headerNameCharset: names beyond letters, digits, '-' and '_' dropped", file: "src/edge/header-hygiene.ts", find: "if (!isPortableHeaderName(name) || isStrippedHeader(name)", replace: "if (isStrippedHeader(name)", tests: HARDENING_TESTS },
  // 2. noMethodOverrideParameter after PHP's mangling (ATTACKS #31)
  { rule: "phpParameterName: compared after PHP's mangling", file: "src/edge/method-override.ts", find: " || phpParameterName(decoded).toLowerCase() === OVERRIDE", replace: "", tests: HARDENING_TESTS },
  { rule: "phpParameterName: leading spaces dropped", file: "src/edge/method-override.ts", find: 'let name = decoded.replace(/^ +/, "");', replace: "let name = decoded;", tests: HARDENING_TESTS },
  { rule: "phpParameterName: the name ends at NUL", file: "src/edge/method-override.ts", find: "  if (nul !== -1) name = name.slice(0, nul);\n", replace: "", tests: HARDENING_TESTS },
  { rule: "phpParameterName: '[' starts an array", file: "src/edge/method-override.ts", find: "  if (bracket !== -1) name = name.slice(0, bracket);\n", replace: "", tests: HARDENING_TESTS },
  { rule: "phpParameterName: '.' and space become '_'", file: "src/edge/method-override.ts", find: 'return name.replace(/[. ]/g, "_");', replace: "return name;", tests: HARDENING_TESTS },
  { rule: "noMethodOverrideParameter: escaped letters are scanned", file: "src/edge/method-override.ts", find: 'search.includes("%") || ', replace: "", tests: HARDENING_TESTS },
  // 3. noPathParameters (ATTACKS #32): in policyPath above ("policyPath: '..;' segments" is the ';' rule)
  // 4. rawTargetBinding (ATTACKS #33)
  { rule: "rawTargetBinding: ambiguous targets refused", file: "src/origin/verify.ts", find: "if (isAmbiguousTarget(target)) {", replace: "if (false) {", tests: HARDENING_TESTS },
  { rule: "rawTargetBinding: a request target is taken as given", file: "src/origin/raw-target.ts", find: 'if (url.startsWith("/")) return url;', replace: 'if (url.startsWith("/")) { const u = new URL(url, "http://o.invalid"); return u.pathname + u.search; }', tests: HARDENING_TESTS },
  { rule: "rawTargetBinding: escaped dot segments", file: "src/origin/raw-target.ts", find: "/^(?:\\.|%2e){1,2}$/i", replace: "/^(?:\\.){1,2}$/", tests: HARDENING_TESTS },
  { rule: "rawTargetBinding: backslash", file: "src/origin/raw-target.ts", find: '  if (path.includes("\\\\")) return true;\n', replace: "", tests: HARDENING_TESTS },
  // 5. gatePrefix with ';' and the other spellings
  { rule: "gatePrefix: ';' parameters folded", file: "src/revocation/paths.ts", find: 'segment.split(";")[0]!.', replace: "segment.", tests: HARDENING_TESTS },
  { rule: "gatePrefix: a segment ends at NUL", file: "src/revocation/paths.ts", find: '.split("\\0")[0]!', replace: "", tests: HARDENING_TESTS },
  { rule: "gatePrefix: trailing dots dropped", file: "src/revocation/paths.ts", find: '.replace(/\\.+$/, "")', replace: "", tests: HARDENING_TESTS },
  { rule: "gatePrefix: Unicode compatibility folding", file: "src/revocation/paths.ts", find: '    .normalize("NFKC")\n', replace: "", tests: HARDENING_TESTS },
  // 6. originStatusRange
  { rule: "originStatusRange: checked on every answer", file: "src/forward.ts", find: "    checkOriginStatus(response, request.headers);\n", replace: "", tests: HARDENING_TESTS },
  { rule: "originStatusRange: 200 to 599", file: "src/forward.ts", find: "if (status >= 200 && status <= 599) return;", replace: "if (status >= 200) return;", tests: HARDENING_TESTS },
  { rule: "originStatusRange: a 101 only for a requested WebSocket", file: "src/forward.ts", find: '&& response.webSocket != null && /^websocket$/i.test(requestHeaders.get("upgrade") ?? "")', replace: "", tests: HARDENING_TESTS },
  { rule: "originStatusRange: a requested WebSocket passes", file: "src/forward.ts", find: '  if (status === 101 && response.webSocket != null && /^websocket$/i.test(requestHeaders.get("upgrade") ?? "")) return;\n', replace: "", tests: HARDENING_TESTS },
  // 7. every answer's line carries the status the client got
  // 8. health answers as requests are answered
  // issue 22: IAM Identity Center sessions (ATTACKS #28) in the identity, at the origin and in the policy
  { rule: "identityCenterSession: the whole role name", file: "src/identity.ts", find: "/^AWSReservedSSO_(.+)_([0-9a-f]{16})$/", replace: "/AWSReservedSSO_(.+)_([0-9a-f]{16})/", tests: ISSUE22_TESTS },
  { rule: "identityCenterSession: lower-case hex only", file: "src/identity.ts", find: "_([0-9a-f]{16})$/", replace: "_([0-9a-fA-F]{16})$/", tests: ISSUE22_TESTS },
  { rule: "identityCenterSession: no user for a plain session", file: "src/identity.ts", find: "if (sso === null) return { role, session };", replace: "if (sso === null) return { role, session, user: session };", tests: ISSUE22_TESTS },
  { rule: "sessionHeadersWhenKnown: each only when its fact exists", file: "src/forward.ts", find: "if (value !== undefined) headers.set(CALLER_HEADERS[fact], value);", replace: 'headers.set(CALLER_HEADERS[fact], value ?? "");', tests: ISSUE22_TESTS },
  { rule: "sessionHeadersWhenKnown: the four headers", file: "src/forward.ts", find: 'for (const fact of ["role", "session", "permissionSet", "user"] as const) {', replace: 'for (const fact of ["role", "session"] as const) {', tests: ISSUE22_TESTS },
  { rule: "sessionClaimsWhenKnown: the user claim", file: "src/assertion/signer.ts", find: "      ...(identity.user !== undefined && { user: identity.user }),\n", replace: "", tests: ISSUE22_TESTS },
  { rule: "sessionClaimsWhenKnown: permission_set only when it exists", file: "src/assertion/signer.ts", find: "...(identity.permissionSet !== undefined && { permission_set: identity.permissionSet }),", replace: "...(identity.role !== undefined && { permission_set: identity.permissionSet ?? identity.role }),", tests: ISSUE22_TESTS },
  { rule: "verifyCaller: returns user", file: "src/origin/verify.ts", find: "    ...(user !== undefined && { user }),\n", replace: "", tests: ISSUE22_TESTS },
  { rule: "verifyCaller: Identity Center claims agree", file: "src/origin/verify.ts", find: "if ((user !== undefined || permissionSet !== undefined) && (", replace: "if (false && (", tests: ISSUE22_TESTS },
  { rule: "verifyCaller: optional claims are non-empty strings", file: "src/origin/verify.ts", find: "(p[name] === undefined ? undefined : s(name))", replace: "(p[name] as string | undefined)", tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: Identity Center sessions only", file: "src/policy/selector.ts", find: "if (identity.permissionSet === undefined || identity.user === undefined) return false;", replace: 'if (identity.role === undefined) return false;\n    identity = { ...identity, permissionSet: identity.permissionSet ?? identity.role, user: identity.user ?? identity.session ?? "" };', tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: the account", file: "src/policy/selector.ts", find: " || identity.account !== selector.account", replace: "", tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: the partition", file: "src/policy/selector.ts", find: "identity.partition !== partition || ", replace: "", tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: permission set regardless of case", file: "src/policy/selector.ts", find: "compileWildcard(selector.permissionSet.toLowerCase())", replace: "compileWildcard(selector.permissionSet)", tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: the whole permission set", file: "src/policy/selector.ts", find: "if (!permissionSet(identity.permissionSet.toLowerCase())) return false;", replace: 'if (!identity.permissionSet.toLowerCase().startsWith(selector.permissionSet.toLowerCase().replace(/\\*.*$/, ""))) return false;', tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: users", file: "src/policy/selector.ts", find: "    if (users === undefined) return true;\n", replace: "    return true;\n", tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: users regardless of case", file: "src/policy/selector.ts", find: "const user = identity.user.toLowerCase();", replace: "const user = identity.user;", tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: in deny", file: "src/policy/evaluate.ts", find: "(doc.deny ?? []).map((entry) =>", replace: '(doc.deny ?? []).filter((entry) => typeof entry === "string").map((entry) =>', tests: ISSUE22_TESTS },
  { rule: "identityCenterSelector: in admins", file: "src/policy/evaluate.ts", find: "const admins = (doc.admins ?? []).map((entry) => compileEntry(entry));", replace: 'const admins = (doc.admins ?? []).filter((entry) => typeof entry === "string").map((entry) => compileEntry(entry));', tests: ISSUE22_TESTS },
  { rule: "selectorSchema: a literal account", file: "src/policy/schema.ts", find: 'z.regex(/^\\d{12}$/, { error: "must be a literal 12-digit', replace: 'z.regex(/^[\\d*]{1,12}$/, { error: "must be a literal 12-digit', tests: ISSUE22_TESTS },
  { rule: "selectorSchema: unknown keys refused", file: "src/policy/schema.ts", find: "const IdentityCenterSelectorSchema = z.strictObject({", replace: "const IdentityCenterSelectorSchema = z.looseObject({", tests: ISSUE22_TESTS },
  { rule: "policyCheck: warns about AWSReservedSSO_ globs", file: "src/policy/explain.ts", find: "if (selector !== undefined) warnings.push(", replace: "if (false) warnings.push(", tests: ISSUE22_TESTS },
  { rule: "decision: the user in the decision line", file: "src/observe/decision.ts", find: "      ...(identity.user !== undefined && { user: identity.user }),\n", replace: "", tests: ISSUE22_TESTS },
  { rule: "cliGateHttps: http only to this machine", file: "src/cli/gate-url.ts", find: '  if (url.protocol === "http:" && isLoopback(url.hostname)) return url;', replace: '  if (url.protocol === "http:") return url;', tests: ["test/cli/gate-url.test.ts", "test/cli/proxy.test.ts"] },
  { rule: "cliGateHttps: loopback by address, not by a name's prefix", file: "src/cli/gate-url.ts", find: "/^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$/.test(hostname)", replace: 'hostname.startsWith("127.")', tests: ["test/cli/gate-url.test.ts"] },
  { rule: "cliGateHttps: localhost itself, not its subdomains", file: "src/cli/gate-url.ts", find: 'hostname === "localhost"', replace: 'hostname.endsWith("localhost")', tests: ["test/cli/gate-url.test.ts"] },
  // issue 22: sts-gate proxy (ATTACKS #29); the proxy itself runs against the gate in test/cli/proxy.test.ts (project node)
  { rule: "proxyLoopbackOnly: 127.0.0.0/8 only", file: "src/cli/proxy-rules.ts", find: "if (v4 !== null && v4.slice(1).every((n) => Number(n) <= 255)) return bare;", replace: "if (/^[\\d.]+$/.test(bare)) return bare;", tests: PROXY_TESTS },
  { rule: "proxyHostCheck: the proxy's own Host", file: "src/cli/proxy-rules.ts", find: "if (!own.hosts.has(host)) {", replace: 'if (host === "") {', tests: PROXY_TESTS },
  { rule: "proxyOriginCheck: own or allowed origins only", file: "src/cli/proxy-rules.ts", find: "if (origin !== undefined && !own.origins.has(origin) && !allowOrigins.includes(origin)) {", replace: 'if (origin === "null") {', tests: PROXY_TESTS },
  { rule: "proxyTokenReuse: one token reused", file: "src/cli/proxy-rules.ts", find: "if (this.current !== undefined && this.now() < this.current.freshUntil)", replace: "if (false)", tests: PROXY_TESTS },
  { rule: "proxyTokenReuse: fresh before 5 minutes", file: "src/cli/proxy-rules.ts", find: "signedAt + PROXY_TOKEN_REUSE_MS", replace: "signedAt + 15 * 60_000", tests: PROXY_TESTS },

  // The one request path (src/gate/): what the plain path and the Hono app did, once
  { rule: "devWiringLoopbackOnly: enforced", file: "src/gate/routes.ts", find: "return ready.devWiring !== undefined && !isLoopbackHost(hostname) ? ready.devWiring : ready;", replace: "return ready;", tests: EDGE_TESTS },
  { rule: "devWiringLoopbackOnly: only *.localhost names beside the loopback hosts", file: "src/edge/dev-wiring.ts", find: "/^(?:[a-z0-9-]+\\.)+localhost$/", replace: "/localhost$/", tests: EDGE_TESTS },
  { rule: "revocationApiOff: no admins, no revocations", file: "src/gate/runtime.ts", find: "config.admins?.hasAdmins ? new RevocationSnapshot", replace: "true ? new RevocationSnapshot", tests: REVOCATION_TESTS },
  { rule: "revocationApiOff: 404", file: "src/gate/handlers/admin.ts", find: "if (admins === undefined || snapshot === undefined) throw", replace: "if (false) throw", tests: [...REVOCATION_TESTS, "test/integration/apps.test.ts"] },
  { rule: "revocation adminsOnly: the API asks for admins", file: "src/gate/handlers/admin.ts", find: 'ctx.authorizeRequest({ grants: "admins" })', replace: "ctx.authorizeRequest()", tests: REVOCATION_TESTS },
  { rule: "observe: status the client got", file: "src/gate/dispatch.ts", find: "decision.finish({ status: answer.status, error: failure });", replace: "decision.finish({ status: 200, error: failure });" },
  { rule: "observe: request id on every answer", file: "src/gate/dispatch.ts", find: "out.headers.set(REQUEST_ID_HEADER, decision.requestId);", replace: "" },
  { rule: "cors: every answer's CORS headers", file: "src/gate/dispatch.ts", find: ": withCorsHeaders(response, app && admittedOrigin(request.headers, app.corsAllowedOrigins));", replace: ": response;" },
  { rule: "gatePrefix: every spelling is read by isGatePath", file: "src/gate/routes.ts", find: "const GATE_PATH_HINT = /%|\\/\\.well-known/i;", replace: "const GATE_PATH_HINT = /^\\/\\.well-known\\//;", tests: [...REVOCATION_TESTS, ...HARDENING_TESTS] },
  { rule: "gatePrefix: an escaped spelling is read", file: "src/gate/routes.ts", find: "/%|\\/", replace: "/\\/", tests: [...REVOCATION_TESTS, ...HARDENING_TESTS] },
  { rule: "gatePrefix: /.well-known in any case", file: "src/gate/routes.ts", find: "\\/\\.well-known/i;", replace: "\\/\\.well-known/;", tests: REVOCATION_TESTS },
  { rule: "health: answered before authentication", file: "src/gate/routes.ts", find: '  if (pathname === HEALTH_PATH && readOnly) return { kind: "health", ready, app:', replace: '  if (false) return { kind: "health", ready, app:' },
  { rule: "health: 503 where dev wiring refuses requests", file: "src/gate/routes.ts", find: 'return { kind: "health", ready, app:', replace: 'return { kind: "health", ready: prepared, app:', tests: HARDENING_TESTS },
  { rule: "decision: the gate's own 404 and 405 are logged", file: "src/gate/handlers/admin.ts", find: "    ctx.decision.finish({ status: route.refusal.status, error: route.refusal });\n", replace: "", tests: HARDENING_TESTS },
  { rule: "decision: health and the JWKS name their route", file: "src/gate/dispatch.ts", find: '      decision.served("jwks");\n', replace: "", tests: ["test/integration/assertion.test.ts"] },
  // Apps (issue 20, ATTACKS #26 and #30)
  { rule: "appByHost: unknown hosts get no_app", file: "src/gate/routes.ts", find: '  if (app === undefined) return { kind: "noApp" };\n  if (appIsAmbiguous(', replace: '  if (app === undefined) return { kind: "app", app: apps[0]! };\n  if (appIsAmbiguous(', tests: ["test/integration/apps.test.ts"] },
  { rule: "appByHost: an exact host wins over a wildcard", file: "src/gate/apps.ts", find: "  if (exact.length > 0) return exact;\n", replace: "", tests: ["test/integration/apps.test.ts"] },
  { rule: "appByHost: a wildcard matches exactly one more label", file: "src/gate/apps.ts", find: "const wildcard = `*${host.slice(dot)}`;", replace: "const wildcard = `*${host.slice(host.lastIndexOf(\".\", host.lastIndexOf(\".\") - 1))}`;", tests: ["test/integration/apps.test.ts"] },
  { rule: "appByHost: hosts regardless of case", file: "src/gate/apps.ts", find: 'const host = hostname.toLowerCase().replace(/\\.$/, "");', replace: 'const host = hostname.replace(/\\.$/, "");', tests: ["test/gate/apps.test.ts", "test/integration/apps.test.ts"] },
  { rule: "appByHost: a trailing dot is the same host", file: "src/gate/apps.ts", find: 'const host = hostname.toLowerCase().replace(/\\.$/, "");', replace: "const host = hostname.toLowerCase();", tests: ["test/gate/apps.test.ts", "test/integration/apps.test.ts"] },
  { rule: "appByHost: the longest prefix wins", file: "src/gate/apps.ts", find: "if (underPrefix(app.pathPrefix, pathname) && (best === undefined || app.pathPrefix.length > best.pathPrefix.length)) best = app;", replace: "if (underPrefix(app.pathPrefix, pathname) && best === undefined) best = app;", tests: ["test/gate/apps.test.ts", "test/integration/apps.test.ts"] },
  { rule: "prefixBoundary: a prefix ends on a segment boundary", file: "src/gate/apps.ts", find: "return pathname === prefix || pathname.startsWith(`${prefix}/`);", replace: "return pathname.startsWith(prefix);", tests: ["test/integration/apps.test.ts"] },
  { rule: "apps: each app verifies with its own audience", file: "src/gate/runtime.ts", find: "        audience: app.audience,\n", replace: "        audience: config.apps[0]!.audience,\n", tests: ["test/integration/apps.test.ts"] },
  { rule: "apps: each app's own policy", file: "src/gate/handlers/proxy.ts", find: "authorize(app.verifier, app.app.policy,", replace: "authorize(app.verifier, ctx.runtime.config.apps[0]!.policy,", tests: ["test/integration/apps.test.ts"] },
  { rule: "apps: each app's own issuer", file: "src/gate/apps.ts", find: "assertionIssuer: `urn:sts-gate:${doc.audience}`,", replace: 'assertionIssuer: "urn:sts-gate",', tests: ["test/integration/apps.test.ts"] },
  { rule: "apps: audiences are unique", file: "src/gate/apps.ts", find: "    if (audience !== undefined) ctx.addIssue(", replace: "    if (false) ctx.addIssue(", tests: ["test/integration/apps.test.ts"] },
  { rule: "apps: host and prefix are unique", file: "src/gate/apps.ts", find: "if (other !== undefined && other !== i) ctx.addIssue(", replace: "if (false) ctx.addIssue(", tests: ["test/integration/apps.test.ts"] },
  { rule: "apps: no admins in an app's policy", file: "src/gate/apps.ts", find: "        if (doc.admins !== undefined) ctx.addIssue(", replace: "        if (false) ctx.addIssue(", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsOrSingleApp: APPS never beside the single-app vars", file: "src/config.ts", find: "    if (mixed.length > 0) issues.push(", replace: "    if (false) issues.push(", tests: ["test/integration/apps.test.ts"] },
  { rule: "publicPathsStrict: no identity on a public path", file: "src/forward.ts", find: "  if (identity === undefined) return headers;\n", replace: "  if (identity === undefined) return headers.set(\"x-caller-type\", \"public\"), headers;\n", tests: ["test/integration/apps.test.ts"] },
  { rule: "publicPathsStrict: ambiguous paths are never public", file: "src/gate/apps.ts", find: "      const path = policyPath(rawPath);", replace: "      const path = decodeURIComponent(rawPath);", tests: ["test/integration/apps.test.ts"] },
  { rule: "publicPathsStrict: the method override is refused there too", file: "src/forward.ts", find: "  checkNoMethodOverride(incoming.search);\n", replace: "  if (identity !== undefined) checkNoMethodOverride(incoming.search);\n", tests: ["test/integration/apps.test.ts"] },
  { rule: "ADMINS: admin requests use the host's app audience", file: "src/gate/handlers/admin.ts", find: "await authorize(app.verifier, admins,", replace: "await authorize(ctx.runtime.apps[0]!.verifier, admins,", tests: ["test/integration/apps.test.ts"] },
  // issue 21
  { rule: "tokenMaxAge: the local rule uses the app's limit", file: "src/token/validate.ts", find: "  const expiresAt = checkLifetime(signedAt, now, maxAgeMs);", replace: "  const expiresAt = checkLifetime(signedAt, now);", tests: ["test/integration/token-max-age.test.ts"] },
  { rule: "tokenMaxAge: checked on a cache hit", file: "src/verify/verifier.ts", find: "        checkAge(remembered.signedAt, now, maxAgeMs);\n", replace: "", tests: ["test/integration/token-max-age.test.ts"] },
  { rule: "tokenMaxAge: each app's own limit", file: "src/gate/runtime.ts", find: "        maxAgeMs: app.tokenMaxAgeMs,", replace: "        maxAgeMs: config.apps.at(-1)!.tokenMaxAgeMs,", tests: ["test/integration/token-max-age.test.ts"] },
  { rule: "tokenMaxAge: out of range is a configuration error", file: "src/config.ts", find: "z.int().check(z.gte(60), z.lte(900))", replace: "z.int()", tests: ["test/integration/token-max-age.test.ts"] },
  { rule: "forwardAuthOff: the endpoint does not answer while off", file: "src/gate/handlers/forward-auth.ts", find: "  if (!app.app.forwardAuth) throw", replace: "  if (false) throw", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuthOriginal: the policy path is the forwarded URI's", file: "src/gate/handlers/forward-auth.ts", find: "ctx.authorizeRequest({ method: original.method, path: original.path })", replace: "ctx.authorizeRequest({ method: original.method })", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuthOriginal: the policy method is the forwarded one", file: "src/gate/handlers/forward-auth.ts", find: "ctx.authorizeRequest({ method: original.method, path: original.path })", replace: "ctx.authorizeRequest({ path: original.path })", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuthOriginal: disagreeing conventions are refused", file: "src/gate/handlers/forward-auth.ts", find: "  if (given.length > 1 && given.some(", replace: "  if (false && given.some(", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuthOriginal: a missing method or URI is refused", file: "src/gate/handlers/forward-auth.ts", find: "if (chosen === undefined || chosen.method === null || chosen.uri === null)", replace: "if (chosen === undefined)", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuth: the assertion's htu is the forwarded URI as given", file: "src/gate/handlers/forward-auth.ts", find: "{ method: original.method, htu: original.uri }", replace: "{ method: original.method, htu: original.path }", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuth: the decision line says mode forward-auth", file: "src/gate/handlers/forward-auth.ts", find: '  ctx.decision.mode = "forward-auth";\n', replace: "", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "whoami: answered before the gate prefix's 404", file: "src/gate/routes.ts", find: '      if (pathname === WHOAMI_PATH) return { kind: "whoami", app };\n', replace: "", tests: ["test/integration/whoami.test.ts"] },
  { rule: "whoami: GET and HEAD only", file: "src/gate/handlers/whoami.ts", find: '  if (method !== "GET" && method !== "HEAD") {', replace: "  if (false) {", tests: ["test/integration/whoami.test.ts"] },
  { rule: "whoami: the identity only and nothing of the policy", file: "src/gate/handlers/whoami.ts", find: "  return { arn: identity.arn, principal: identity.principal, account: identity.account, userId: identity.userId, type: identity.type };", replace: "  return { ...identity };", tests: ["test/integration/whoami.test.ts"] },
  { rule: "rpc: decides on the request's path", file: "src/gate/handlers/rpc.ts", find: "await authorize(app.verifier, config.policy, ctx.authorizeRequest(), decision);", replace: "await authorize(app.verifier, config.policy, ctx.authorizeRequest({ path: \"/deploy/x\" }), decision);", tests: ["test/integration/rpc.test.ts"] },
  { rule: "rpc: picks the app by the request's host", file: "src/gate/handlers/rpc.ts", find: "    const chosen = chooseApp(ready.config.apps, url.hostname, url.pathname);", replace: '    const chosen = { kind: "app", app: ready.config.apps[0]! } as const;', tests: ["test/integration/rpc.test.ts"] },
  { rule: "rpc: never throws", file: "src/gate/handlers/rpc.ts", find: "    const known = refusalOf(error);", replace: "    const known = refusalOf(error);\n    if (known?.status === 503) throw error;", tests: ["test/integration/rpc.test.ts"] },
  { rule: "rpc: the decision line says mode rpc", file: "src/gate/handlers/rpc.ts", find: '  decision.mode = "rpc";\n', replace: "", tests: ["test/integration/rpc.test.ts"] },
  { rule: "rpc: the StsGate entrypoint verifies", file: "src/worker.ts", find: "    return gate.verify(request, this.env as object, this.ctx);", replace: "    return { allowed: false, status: 401, code: \"authorization_missing\", detail: \"\" };", tests: ["test/integration/rpc.test.ts"] },
  { rule: "forwardAuthOriginal: the URI is a path on the gate's own host", file: "src/gate/handlers/forward-auth.ts", find: "    url = new URL(`http://forward-auth.invalid${chosen.uri}`);", replace: "    url = new URL(chosen.uri, \"http://forward-auth.invalid\");", tests: ["test/integration/forward-auth.test.ts"] },
  // issue 21 end
  // issue 20 tools: sts-gate doctor and npm run policy understand APPS
  { rule: "issue 20 tools: doctor checks each app of APPS", file: "src/cli/doctor.ts", find: "  else problems.push(...appsProblems(target, apps));\n", replace: "", tests: ["test/cli/doctor.test.ts"] },
  { rule: "issue 20 tools: doctor names each issue by its app", file: "src/cli/doctor.ts", find: "        if (ref === undefined) return whole;\n", replace: "        return whole;\n", tests: ["test/cli/doctor.test.ts"] },
  { rule: "issue 20 tools: doctor checks each app's origin", file: "src/cli/doctor.ts", find: "    if (typeof doc.originUrl === \"string\" && !said(\"originUrl\")) {", replace: "    if (false) {", tests: ["test/cli/doctor.test.ts"] },
  { rule: "issue 20 tools: doctor refuses an example host", file: "src/cli/doctor.ts", find: "if (typeof host === \"string\" && EXAMPLE_HOST.test(", replace: "if (false && EXAMPLE_HOST.test(", tests: ["test/cli/doctor.test.ts"] },
  { rule: "issue 20 tools: doctor finds an app's policy that admits no one", file: "src/cli/doctor.ts", find: "      if (noOne !== undefined) problems.push(`${app.ref}: policy: admits no one", replace: "      if (false) problems.push(`${app.ref}: policy: admits no one", tests: ["test/cli/doctor.test.ts"] },
  { rule: "issue 20 tools: check names an app's issues by the app", file: "src/cli/policy-command.ts", find: "  if (!checked.ok) return { ok: false, issues: checked.issues.map(named) };", replace: "  if (!checked.ok) return { ok: false, issues: checked.issues };", tests: ["test/cli/policy-command.test.ts"] },
  { rule: "issue 20 tools: check refuses admins in an app's policy", file: "src/cli/policy-command.ts", find: "  if (checked.doc.admins !== undefined) return { ok: false, issues: [named(", replace: "  if (false) return { ok: false, issues: [named(", tests: ["test/cli/policy-command.test.ts"] },
  { rule: "issue 20 tools: explain decides the gate's API by ADMINS", file: "src/cli/policy-command.ts", find: "  const decided = withAdmins(text, request) ?? checked;", replace: "  const decided = checked;", tests: ["test/cli/policy-command.test.ts"] },
  { rule: "issue 20 tools: explain needs --app with APPS", file: "src/cli/wrangler-config.ts", find: "  } else if (options.command === \"explain\") {", replace: "  } else if (false) {", tests: ["test/cli/wrangler-config.test.ts"] },
  { rule: "issue 20 tools: --app picks the app", file: "src/cli/wrangler-config.ts", find: "    chosen = apps.filter((a) => a.name === app);", replace: "    chosen = apps;", tests: ["test/cli/wrangler-config.test.ts"] },
  { rule: "issue 20 tools: an app's policy as JSON text is read as the gate reads it", file: "src/cli/wrangler-config.ts", find: 'policyText: policy === undefined ? undefined : typeof policy === "string" ? policy : JSON.stringify(policy), fields: app }];', replace: "policyText: policy === undefined ? undefined : JSON.stringify(policy), fields: app }];", tests: ["test/cli/wrangler-config.test.ts"] },
  { rule: "issue 20 tools: probe needs --app with APPS", file: "src/cli/wrangler-config.ts", find: "  if (app === undefined) return { error: `${file}: ${target.varsTable} has APPS, each", replace: "  if (false) return { error: `${file}: ${target.varsTable} has APPS, each", tests: ["test/cli/probe.test.ts"] },
  { rule: "issue 20 tools: probe --app picks the app", file: "src/cli/wrangler-config.ts", find: "  const chosen = apps.find((a) => a.name === app);", replace: "  const chosen = apps[0];", tests: ["test/cli/probe.test.ts"] },
  { rule: "issue 20 tools: probe asks the app's path prefix by default", file: "src/cli/probe.ts", find: "const path = options.path ?? app?.pathPrefix ?? \"/\";", replace: "const path = options.path ?? \"/\";", tests: ["test/cli/probe.test.ts"] },
  { rule: "issue 20 tools: probe routes as the gate does", file: "src/cli/probe-route.ts", find: '  if (chosen.kind === "noApp" || chosen.app !== compiled) {', replace: "  if (false) {", tests: ["test/cli/probe.test.ts"] },
  { rule: "issue 20 tools: probe refuses what the gate finds ambiguous", file: "src/cli/probe-route.ts", find: '  if (chosen.kind === "appAmbiguous") {', replace: "  if (false) {", tests: ["test/cli/probe.test.ts"] },
  { rule: "issue 20 tools: probe reports another app's problem", file: "src/cli/probe-route.ts", find: "    if (issues.length === 0) return { differences: [], isPublic: false };", replace: "    return { differences: [], isPublic: false };", tests: ["test/cli/probe.test.ts"] },
  { rule: "issue 20 tools: probe's public paths are the gate's", file: "src/cli/probe-route.ts", find: "isPublic: compiled.publicPaths.some((matches) => matches(path)) };", replace: "isPublic: false };", tests: ["test/cli/probe.test.ts"] },
  { rule: "problem: a 403 carries WWW-Authenticate insufficient_scope", file: "src/problem.ts", find: "if (status === 401 || status === 403) headers.set(", replace: "if (status === 401) headers.set(", tests: ["test/integration/forward-auth.test.ts"] },
  // After the security review of the day's diff
  { rule: "appByFoldedPath: another app's prefix in a lenient spelling is refused", file: "src/gate/routes.ts", find: '  if (appIsAmbiguous(apps, hostname, pathname, app, foldPath)) return { kind: "appAmbiguous", app };\n', replace: "", tests: ["test/integration/apps.test.ts"] },
  { rule: "appByFoldedPath: the folded reading compares folded prefixes", file: "src/gate/apps.ts", find: "    const prefix = fold(app.pathPrefix);", replace: "    const prefix = app.pathPrefix;", tests: ["test/integration/apps.test.ts"] },
  { rule: "gatePrefix: a malformed escape leaves the other escapes decoded", file: "src/revocation/paths.ts", find: "pathname.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {", replace: "pathname.replace(/^(?:%[0-9a-f]{2})+$/gi, (run) => {", tests: HARDENING_TESTS },
  { rule: "policyPath: Unicode compatibility forms are ambiguous", file: "src/policy/match.ts", find: '  if (decoded.normalize("NFKC") !== decoded) return null;\n', replace: "", tests: ["test/policy/rules.test.ts", "test/integration/apps.test.ts"] },
  { rule: "forwardAuthRawUri: a dot segment or backslash is refused", file: "src/gate/handlers/forward-auth.ts", find: "  if (isAmbiguousTarget(chosen.uri)) {", replace: "  if (false) {", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuth: the method-override parameter is refused", file: "src/gate/handlers/forward-auth.ts", find: "  checkNoMethodOverride(url.search);\n", replace: "", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuthNoOverrides: override headers are refused", file: "src/gate/handlers/forward-auth.ts", find: "  refuseOverrideHeaders(ctx.request.headers);\n", replace: "", tests: ["test/integration/forward-auth.test.ts"] },
  // One folding serves both forward-auth refusals (overrides and X-Caller aliases): its tests cover both.
  { rule: "forwardAuthNoOverrides, forwardAuthNoCallerAliases: in PHP's spellings too", file: "src/edge/header-hygiene.ts", find: '.replace(/[_. ]/g, "-")', replace: '.replace(/_/g, "-")', tests: ["test/integration/forward-auth.test.ts", "test/edge/header-hygiene.test.ts"] },
  { rule: "cors: a preflight to the gate's own API", file: "src/gate/routes.ts", find: '      if (isPreflight(request, origin)) return { kind: "preflight", app, origin };\n', replace: "", tests: ["test/integration/cors.test.ts"] },
  { rule: "proxyOriginCheck: a cross-site request without Origin (Sec-Fetch-Site)", file: "src/cli/proxy-rules.ts", find: 'if (origin === undefined && (site === "cross-site" || site === "same-site")) {', replace: "if (false) {", tests: ["test/cli/proxy-rules.test.ts"] },
  // forward-auth: identity headers in another spelling (ATTACKS #16, #31)
  { rule: "forwardAuthNoCallerAliases: refused", file: "src/gate/handlers/forward-auth.ts", find: "  refuseCallerAliases(ctx.request.headers);\n", replace: "", tests: ["test/integration/forward-auth.test.ts"] },
  { rule: "forwardAuthNoCallerAliases: the gate's own spelling passes", file: "src/edge/header-hygiene.ts", find: "return folded.startsWith(CALLER_HEADER_PREFIX) && folded !== name.toLowerCase();", replace: "return folded.startsWith(CALLER_HEADER_PREFIX);", tests: ["test/integration/forward-auth.test.ts", "test/edge/header-hygiene.test.ts"] },
  // issue 20: LOG_ALLOWED, the allow-line switch (rule allowLinesSwitch)
  { rule: "allowLinesSwitch: warn lines stay", file: "src/observe/decision.ts", find: 'if (level !== "info" || status >= 500) return false;', replace: "if (status >= 500) return false;", tests: ["test/integration/log-allowed.test.ts", "test/observe/decision.test.ts"] },
  { rule: "allowLinesSwitch: an origin's 5xx stays", file: "src/observe/decision.ts", find: 'if (level !== "info" || status >= 500) return false;', replace: 'if (level !== "info") return false;', tests: ["test/integration/log-allowed.test.ts", "test/observe/decision.test.ts"] },
  { rule: "allowLinesSwitch: whoami stays", file: "src/observe/decision.ts", find: 'if (route === "whoami" || rule === ADMINS_RULE) return false;', replace: "if (rule === ADMINS_RULE) return false;", tests: ["test/integration/log-allowed.test.ts", "test/observe/decision.test.ts"] },
  { rule: "allowLinesSwitch: an admin's request stays", file: "src/observe/decision.ts", find: 'if (route === "whoami" || rule === ADMINS_RULE) return false;', replace: 'if (route === "whoami") return false;', tests: ["test/integration/log-allowed.test.ts", "test/observe/decision.test.ts"] },
  { rule: "allowLinesSwitch: denials stay", file: "src/observe/decision.ts", find: 'return outcome === "allow" || outcome === "public";', replace: 'return outcome !== "error";', tests: ["test/integration/log-allowed.test.ts", "test/observe/decision.test.ts"] },
  { rule: "allowLinesSwitch: a warning when nothing records allowed requests", file: "src/gate/runtime.ts", find: "if (!config.logAllowed && config.metrics === undefined) {", replace: "if (false) {", tests: ["test/integration/log-allowed.test.ts"] },
  { rule: "allowLinesSwitch: on by default", file: "src/config.ts", find: "  LOG_ALLOWED: flag(true),", replace: "  LOG_ALLOWED: flag(false),", tests: ["test/integration/log-allowed.test.ts"] },
  { rule: "allowLinesSwitch: the data point is kept", file: "src/observe/decision.ts", find: "if (!logged && !counted) return;", replace: "if (!logged) return;", tests: ["test/integration/log-allowed.test.ts"] },
  { rule: "allowLinesSwitch: the Worker reads the setting", file: "src/gate/dispatch.ts", find: "if (!(ready instanceof Misconfiguration)) decision.logAllowed = ready.config.logAllowed;", replace: "", tests: ["test/integration/log-allowed.test.ts"] },
  { rule: "allowLinesSwitch: StsGate.verify reads the setting", file: "src/gate/handlers/rpc.ts", find: "    decision.logAllowed = ready.config.logAllowed;\n", replace: "", tests: ["test/integration/log-allowed.test.ts"] },
  { rule: "appsEveryLineNamesApp: the decision line names the app", file: "src/gate/decision-app.ts", find: "  decision.app = app?.name ?? null;", replace: "  decision.app = null;", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsEveryLineNamesApp: a no_app refusal writes its data point", file: "src/gate/dispatch.ts", find: "    case \"noApp\":\n      assignApp(decision, ready, undefined, env);\n", replace: "    case \"noApp\":\n", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsEveryLineNamesApp: an app_ambiguous refusal names the app it picked", file: "src/gate/dispatch.ts", find: "      assignApp(decision, ready, route.app, env);\n      throw new GateProblem(\"app_ambiguous\"", replace: "      throw new GateProblem(\"app_ambiguous\"", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsEveryLineNamesApp: health names the host's app", file: "src/gate/routes.ts", find: "app: ready instanceof Misconfiguration ? undefined : hostApp(ready.config.apps, hostname, pathname) };", replace: "app: undefined };", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsEveryLineNamesApp: StsGate.verify names the app", file: "src/gate/handlers/rpc.ts", find: '    assignApp(decision, ready, chosen.kind === "noApp" ? undefined : chosen.app, env);\n', replace: "", tests: ["test/integration/rpc.test.ts"] },
  { rule: "appsEveryLineNamesApp: the data point carries the app", file: "src/observe/metrics.ts", find: "\"rule\", \"principal\", \"app\"],", replace: "\"rule\", \"principal\", \"audience\"],", tests: ["test/integration/observability.test.ts", "test/integration/apps.test.ts"] },
  { rule: "appsEveryLineNamesApp: StsGate.verify on a misconfigured gate writes its data point", file: "src/gate/handlers/rpc.ts", find: "      assignApp(decision, ready, undefined, env);\n", replace: "", tests: ["test/integration/rpc.test.ts"] },
  { rule: "appsEveryLineNamesApp: health takes no app's CORS", file: "src/gate/dispatch.ts", find: 'route.kind !== "health" && "app" in route', replace: '"app" in route', tests: ["test/integration/apps.test.ts"] },
  { rule: "appHosts: an app serves at least one host", file: "src/gate/apps.ts", find: ", 100, \"must not be empty: an app serves at least one host\"),", replace: ", 100),", tests: ["test/integration/apps.test.ts"] },
  { rule: "appHosts: a host is read in lower case, as requests are matched", file: "src/gate/apps.ts", find: "z.pipe(z.pipe(z.string(), z.transform(asciiLowerCase)), checked(255, hostProblem))", replace: "checked(255, hostProblem)", tests: ["test/integration/apps.test.ts"] },
  { rule: "gatePrefix: the gate's own paths answer on every host an app serves, whatever its prefix", file: "src/gate/routes.ts", find: "  return matchApp(apps, hostname, pathname) ?? appsForHost(apps, hostname)[0];", replace: "  return matchApp(apps, hostname, pathname);", tests: ["test/integration/apps.test.ts"] },
  { rule: "publicPathsStrict: a public path's line says outcome public", file: "src/gate/handlers/proxy.ts", find: "  ctx.decision.public();\n", replace: "", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsHealth: health lists each app by name", file: "src/gate/handlers/health.ts", find: "      apps: config.apps.map((app) => ({ name: app.name, valid: true })),", replace: "      apps: [],", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsHealth: an invalid app is listed as invalid", file: "src/observe/misconfigured.ts", find: "valid: !this.issues.some((issue) => issue.startsWith(`APPS[${i}]`))", replace: "valid: true", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsConfig: APPS may be JSON text", file: "src/config.ts", find: "const AppList = z.pipe(\n  JsonText,\n", replace: "const AppList = z.pipe(\n  z.transform((v: unknown) => v),\n", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsConfig: an app's policy may be JSON text, as POLICY", file: "src/config.ts", find: "tokenMaxAgeSeconds: TokenMaxAge, policy: Policy })", replace: "tokenMaxAgeSeconds: TokenMaxAge, policy: PolicySchema })", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsConfig: the single-app vars are one app named default", file: "src/config.ts", find: "export const DEFAULT_APP = \"default\";", replace: "export const DEFAULT_APP = \"single\";", tests: ["test/integration/apps.test.ts"] },
  { rule: "appsConfig: the assertion audience defaults to the origin of originUrl", file: "src/gate/apps.ts", find: "    assertionAudience: doc.assertionAudience ?? doc.originUrl.origin,", replace: "    assertionAudience: doc.assertionAudience ?? doc.originUrl.href,", tests: ["test/integration/apps.test.ts"] },
];

/**
 * Where a mutant has no tests of its own, the tests that guard its module: each mutant then
 * runs in seconds rather than against the whole suite. A rule that only a test elsewhere could
 * catch shows up as a survivor, and is then given its tests explicitly.
 */
const MODULE_TESTS: ReadonlyArray<[prefix: string, tests: readonly string[]]> = [
  ["src/token/", ["test/token/", "test/integration/attacks.test.ts", "test/integration/accept.test.ts", "test/integration/callers-mistakes.test.ts"]],
  ["src/sts/", ["test/sts/", "test/integration/sts-faults.test.ts", "test/integration/attacks.test.ts", "test/integration/callers-mistakes.test.ts"]],
  ["src/identity.ts", ["test/identity.test.ts", "test/integration/sts-faults.test.ts", "test/integration/attacks.test.ts"]],
  ["src/policy/", ["test/policy/", "test/integration/policy.test.ts", "test/integration/attacks.test.ts"]],
  ["src/origin/", ["test/origin/", "test/integration/assertion.test.ts"]],
  ["src/verify/", ["test/verify/", "test/integration/cache.test.ts", "test/integration/sts-faults.test.ts", "test/integration/flood.test.ts"]],
  ["src/forward.ts", ["test/forward.test.ts", "test/integration/forwarding.test.ts", "test/integration/origin-edge.test.ts", "test/integration/observability.test.ts"]],
  ["src/observe/", ["test/observe/", "test/integration/observability.test.ts"]],
  ["src/cors.ts", ["test/cors.test.ts", "test/integration/cors.test.ts"]],
  ["src/gate/", ["test/integration/observability.test.ts", "test/integration/config-and-logs.test.ts", "test/integration/cors.test.ts", "test/integration/forwarding.test.ts", "test/integration/apps.test.ts"]],
];

export const MUTANTS: Mutant[] = ALL.map((m) => m.tests ? m : { ...m, tests: MODULE_TESTS.find(([prefix]) => m.file.startsWith(prefix))?.[1] });
