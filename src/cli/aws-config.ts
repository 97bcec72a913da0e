import { fromIni, fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { loadSharedConfigFiles } from "@smithy/core/config";
import type { AwsCredentials } from "../client/token.ts";

/** A failure to report as one line on stderr, with an exit status. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

type Env = Record<string, string | undefined>;

export interface AwsSettings {
  /** The profile named by --profile or AWS_PROFILE, if any. */
  profile: string | undefined;
  /** The profile in effect ("default" if none was named), and whether either file has it. */
  profileName: string;
  profileInFiles: boolean;
  /** The Region to sign for, and where it came from (for messages). */
  region: string;
  regionSource: string;
}

/**
 * The profile and Region as the AWS CLI resolves them: `--region`, then `AWS_REGION`, then
 * `AWS_DEFAULT_REGION`, then the profile's `region` in the config file, then us-east-1. The
 * files are read with the SDK's own loader (the one its credential providers use), which
 * honours AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE. A profile that was asked for by
 * name and is in neither file is an error, as in the AWS CLI.
 */
export async function resolveAwsSettings(flags: { profile?: string; region?: string }, env: Env): Promise<AwsSettings> {
  const named = flags.profile ?? nonEmpty(env.AWS_PROFILE);
  const profileName = named ?? "default";
  let files: Awaited<ReturnType<typeof loadSharedConfigFiles>>;
  try {
    files = await loadSharedConfigFiles();
  } catch (error) {
    throw new CliError(`could not read the AWS config files: ${firstLine(error)}`);
  }
  const profileInFiles = profileName in files.configFile || profileName in files.credentialsFile;
  if (named !== undefined && !profileInFiles) {
    const where = [env.AWS_CONFIG_FILE ?? "~/.aws/config", env.AWS_SHARED_CREDENTIALS_FILE ?? "~/.aws/credentials"].join(" or ");
    throw new CliError(`the profile ${JSON.stringify(named)} was not found in ${where}`);
  }
  const fromProfile = nonEmpty(files.configFile[profileName]?.region);
  const candidates: [string | undefined, string][] = [
    [flags.region, "--region"],
    [nonEmpty(env.AWS_REGION), "AWS_REGION"],
    [nonEmpty(env.AWS_DEFAULT_REGION), "AWS_DEFAULT_REGION"],
    [fromProfile, `the region of profile ${JSON.stringify(profileName)}`],
  ];
  for (const [region, source] of candidates) {
    if (region !== undefined) return { profile: named, profileName, profileInFiles, region, regionSource: source };
  }
  return { profile: named, profileName, profileInFiles, region: "us-east-1", regionSource: "the default" };
}

/**
 * Credentials from the AWS SDK's default Node.js chain: environment variables, SSO, the shared
 * config and credentials files (profiles, assume-role, credential_process), web identity, then
 * container and instance metadata (AWS_EC2_METADATA_DISABLED=true skips the latter).
 */
export async function loadCredentials(settings: AwsSettings, env: Env, warn: (line: string) => void): Promise<AwsCredentials> {
  const { profile } = settings;
  if (profile !== undefined && nonEmpty(env.AWS_ACCESS_KEY_ID) && nonEmpty(env.AWS_SECRET_ACCESS_KEY)) {
    warn(`both the profile ${JSON.stringify(profile)} and AWS_ACCESS_KEY_ID are set; using the profile`);
  }
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const provider = fromNodeProviderChain({ ...(profile !== undefined ? { profile } : {}), logger: quiet });
  try {
    return plain(await provider());
  } catch (error) {
    const message = firstLine(error);
    if (/could not load credentials from any providers/i.test(message)) {
      // The chain's last word hides why a profile that exists failed (a credential_process
      // that exited non-zero, a missing source_profile): ask the profile provider alone.
      if (settings.profileInFiles) {
        try {
          return plain(await fromIni({ profile: settings.profileName, logger: quiet })());
        } catch (profileError) {
          throw new CliError(`could not load AWS credentials for profile ${JSON.stringify(settings.profileName)}: ${firstLine(profileError)}`);
        }
      }
      throw new CliError(
        "no AWS credentials found (tried the environment, the shared config and credentials files, SSO, " +
          "credential_process, web identity, container and instance metadata); set AWS_PROFILE or --profile, " +
          "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
      );
    }
    throw new CliError(`could not load AWS credentials: ${message}`);
  }
}

function plain(c: AwsCredentials): AwsCredentials {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration };
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split(/\r?\n/).find((l) => l.trim() !== "")?.trim() ?? "unknown error";
}

/** A library's sentence as the middle of a CLI line: "Expected …" becomes "expected …" (an acronym stays). */
export function lowerFirst(text: string): string {
  return text.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * The flags of every command that signs as the caller (token, probe, revoke, revocations,
 * unrevoke), as node:util parseArgs options, so each command spells them alike.
 */
export const CALLER_OPTIONS = {
  audience: { type: "string" },
  region: { type: "string" },
  global: { type: "boolean" },
  profile: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
