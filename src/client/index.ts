/**
 * sts-gate/client: call an sts-gate with AWS credentials. Runs in Workers, browsers, Node,
 * Deno and Bun (Web Crypto and fetch only). See README.md, "Calling the gate".
 */
export {
  createToken,
  StsGateClientError,
  EXPIRY_MARGIN_MS,
  TOKEN_LIFETIME_MS,
  TOKEN_PREFIX,
  type AwsCredentials,
  type ClientErrorCode,
  type CreateTokenOptions,
  type GateToken,
} from "./token.ts";
export {
  createGateFetch,
  DEFAULT_REFRESH_BEFORE_MS,
  type CredentialProvider,
  type FetchImplementation,
  type FetchLike,
  type GateFetchOptions,
} from "./fetch.ts";
