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
}

export const MUTANTS: Mutant[] = [
  // src/token/bearer.ts
  { rule: "bearerToken: size cap", file: "src/token/bearer.ts", find: "if (authorization.length > SCHEME.length + 1 + MAX_TOKEN_BYTES) {", replace: "if (false) {" },
  { rule: "bearerToken: exact scheme", file: "src/token/bearer.ts", find: "if (authorization.slice(0, SCHEME.length).toLowerCase() !== SCHEME) {", replace: "if (false) {" },
  { rule: "bearerToken: one space", file: "src/token/bearer.ts", find: 'if (!rest.startsWith(" ")) {', replace: "if (false) {" },
  { rule: "bearerToken: token_missing", file: "src/token/bearer.ts", find: "if (/^ *$/.test(rest)) {", replace: "if (false) {" },
  { rule: "bearerToken: visible ASCII", file: "src/token/bearer.ts", find: "if (!/^[\\x21-\\x7e]+$/.test(token)) {", replace: 'if (token === "") {' },
  // src/cors.ts
  { rule: "cors: only listed origins", file: "src/cors.ts", find: "const admitted = origin !== undefined && allowed(c).has(origin);", replace: "const admitted = origin !== undefined;" },
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
  // src/token/query.ts
  { rule: "strictQuery: name=value", file: "src/token/query.ts", find: 'if (eq === -1) throw new GateProblem("query_malformed"', replace: 'if (false) throw new GateProblem("query_malformed"' },
  { rule: "strictQuery: empty name", file: "src/token/query.ts", find: 'if (rawName === "") throw', replace: "if (false) throw" },
  { rule: "strictQuery: raw characters and escapes", file: "src/token/query.ts", find: "if (!RAW_COMPONENT.test(rawName) || !RAW_COMPONENT.test(rawValue)) {", replace: "if (false) {" },
  { rule: "strictQuery: duplicates", file: "src/token/query.ts", find: "if (seen.has(folded)) {", replace: "if (false) {" },
  { rule: "strictQuery: duplicates in any case", file: "src/token/query.ts", find: "const folded = name.toLowerCase();", replace: "const folded = name;" },
  { rule: "strictQuery: allowed names", file: "src/token/query.ts", find: "if (!ALLOWED.has(name)) {", replace: "if (false) {" },
  // src/token/validate.ts
  { rule: "requiredParameters", file: "src/token/validate.ts", find: 'if (params[name] === undefined) throw new GateProblem("parameter_missing"', replace: 'if (false) throw new GateProblem("parameter_missing"' },
  { rule: "actionIsGetCallerIdentity", file: "src/token/validate.ts", find: 'if (action !== "GetCallerIdentity") throw', replace: "if (false) throw" },
  { rule: "versionIs20110615", file: "src/token/validate.ts", find: 'if (version !== "2011-06-15") throw', replace: "if (false) throw" },
  { rule: "algorithmIsSigV4", file: "src/token/validate.ts", find: 'if (algorithm !== "AWS4-HMAC-SHA256") throw', replace: "if (false) throw" },
  { rule: "signedHeadersExact", file: "src/token/validate.ts", find: "if (signedHeaders !== REQUIRED_SIGNED_HEADERS) {", replace: "if (false) {" },
  { rule: "signatureShape", file: "src/token/validate.ts", find: "if (!/^[0-9a-f]{64}$/.test(signature)) {", replace: "if (false) {" },
  { rule: "amzDateShape: pattern", file: "src/token/validate.ts", find: 'if (m === null) throw new GateProblem("date_malformed"', replace: 'if (m === null) return Date.now(); if (false) throw new GateProblem("date_malformed"' },
  { rule: "amzDateShape: real calendar instant", file: "src/token/validate.ts", find: "    back.getUTCFullYear() !== y ||", replace: "    false && back.getUTCFullYear() !== y &&" },
  { rule: "credentialScope: shape", file: "src/token/validate.ts", find: "const CREDENTIAL = /^([A-Z0-9]{16,128})\\/(\\d{8})\\/([a-z0-9-]{1,32})\\/sts\\/aws4_request$/;", replace: "const CREDENTIAL = /^([^/]+)\\/(\\d{8})\\/([^/]+)\\/[^/]+\\/[^/]+$/;" },
  { rule: "credentialScope: date", file: "src/token/validate.ts", find: "if (date !== amzDate.slice(0, 8)) {", replace: "if (false) {" },
  { rule: "credentialScope: region", file: "src/token/validate.ts", find: "if (region !== endpoint.region) {", replace: "if (false) {" },
  { rule: "expiresRange", file: "src/token/validate.ts", find: "if (!/^(0|[1-9][0-9]{0,2})$/.test(expires) || Number(expires) > MAX_EXPIRES_SECONDS) {", replace: "if (false) {" },
  { rule: "lifetime: not in the future", file: "src/token/validate.ts", find: "if (signedAt > now + MAX_CLOCK_SKEW_MS) {", replace: "if (false) {" },
  { rule: "lifetime: 15 minutes", file: "src/token/validate.ts", find: "if (now >= expiresAt) throw", replace: "if (false) throw" },
  // src/sts/exchange.ts
  { rule: "rebuildUpstream: exact headers", file: "src/sts/exchange.ts", find: 'headers: { [AUDIENCE_HEADER]: audience, accept: "application/json" },', replace: 'headers: { [AUDIENCE_HEADER]: audience },' },
  { rule: "stsResponse: redirects fail", file: "src/sts/exchange.ts", find: "if (status >= 300 && status < 400) {", replace: "if (false) {" },
  { rule: "stsResponse: JSON content type", file: "src/sts/exchange.ts", find: 'if (!isJson(response)) throw new GateProblem("sts_bad_response", "STS answered 200', replace: 'if (false) throw new GateProblem("sts_bad_response", "STS answered 200' },
  { rule: "stsResponse: exact schema", file: "src/sts/exchange.ts", find: "const GetCallerIdentityResponse = z.strictObject({\n  GetCallerIdentityResponse: z.strictObject({\n    GetCallerIdentityResult: z.strictObject({", replace: "const GetCallerIdentityResponse = z.object({\n  GetCallerIdentityResponse: z.object({\n    GetCallerIdentityResult: z.object({" },
  { rule: "stsResponse: body cap", file: "src/sts/exchange.ts", find: "    if (size > max) {", replace: "    if (false) {" },
  { rule: "stsResponse: throttling is 503", file: "src/sts/exchange.ts", find: "if (code !== undefined && THROTTLING_CODES.has(code)) throw", replace: "if (false) throw" },
  // src/identity.ts
  { rule: "identityFromArn: partition", file: "src/identity.ts", find: "if (partition !== expectedPartition) {", replace: "if (false) {" },
  { rule: "identityFromArn: Account", file: "src/identity.ts", find: "if (answer.account !== account) {", replace: "if (false) {" },
  { rule: "identityFromArn: UserId", file: "src/identity.ts", find: "if (!shape.userId(account, m).test(answer.userId)) {", replace: "if (false) {" },
  // src/policy.ts
  { rule: "principalTypes opt-in", file: "src/policy.ts", find: "if (!types.has(identity.type)) {", replace: "if (false) {" },
  { rule: "arnPatternFieldByField: field count", file: "src/policy.ts", find: "if (parts.length !== fields.length) return false;", replace: "" },
  { rule: "arnPatternFieldByField: * stays in a field", file: "src/policy.ts", find: '.join("[^:]*");', replace: '.join(".*");' },
  { rule: "policy: literal account in patterns", file: "src/policy.ts", find: "if (!/^\\d{12}$/.test(account)) {", replace: "if (false) {" },
  { rule: "policy: literal partition in patterns", file: "src/policy.ts", find: "if (!(PARTITIONS as readonly string[]).includes(partition)) {", replace: "if (false) {" },
  { rule: "policy: accounts allowlist", file: "src/policy.ts", find: "if (!accounts.has(identity.account)) return denied(", replace: "if (false) return denied(" },
  { rule: "policy: deny wins over allow", file: "src/policy.ts", find: "if (d.match(identity.principal)) return denied(", replace: "if (false) return denied(" },
  { rule: "policy: unique-ID pin", file: "src/policy.ts", find: "if (uniqueIdOf(identity) !== pinned) return denied(", replace: "if (false) return denied(" },
  { rule: "policy: rule methods", file: "src/policy.ts", find: "if (rule.methods !== undefined && !rule.methods.has(request.method)) {", replace: "if (false) {" },
  { rule: "policy: rule paths", file: "src/policy.ts", find: "if (!rule.paths.some((p) => p.match(path))) {", replace: "if (false) {" },
  // src/origin/verify.ts (the origin's check of the gate's assertion)
  { rule: "verifyCaller: htm", file: "src/origin/verify.ts", find: "if (payload.htm !== request.method) {", replace: "if (false) {" },
  { rule: "verifyCaller: htu", file: "src/origin/verify.ts", find: "if (payload.htu !== target) {", replace: "if (false) {" },
  // src/forward.ts
  { rule: "stripCallerHeaders: Authorization", file: "src/forward.ts", find: 'if (name === "authorization" || name === "host" || name.startsWith("x-caller-")) continue;', replace: 'if (name === "host" || name.startsWith("x-caller-")) continue;' },
  { rule: "stripCallerHeaders: X-Caller-*", file: "src/forward.ts", find: 'if (name === "authorization" || name === "host" || name.startsWith("x-caller-")) continue;', replace: 'if (name === "authorization" || name === "host") continue;' },
  { rule: "forward: redirects not followed", file: "src/forward.ts", find: 'redirect: "manual",', replace: 'redirect: "follow",' },
  // src/cache.ts
  { rule: "refusedTokenMemory", file: "src/cache.ts", find: 'if (error instanceof GateProblem && error.code === "sts_refused") {', replace: "if (false) {" },
  { rule: "kvMinimumTtl", file: "src/cache.ts", find: "if (expiration < Math.ceil(now / 1000) + KV_MIN_TTL_SECONDS) return;", replace: "" },
  { rule: "sharedInflightCalls", file: "src/cache.ts", find: "if (pending) return shared(await pending);", replace: "" },
  { rule: "cacheKeyHasAudience", file: "src/cache.ts", find: "`sts-gate/v1\\n${audience}\\n${token}`", replace: "`sts-gate/v1\\n${token}`" },
];
