import { log } from "../log.ts";

/**
 * An invalid configuration, as found once per isolate. Each issue names its field first
 * (`POLICY.allow[0]: ...`, `APPS[2].audience: ...`) and never quotes a value, since vars may hold
 * secrets.
 */
export class Misconfiguration {
  /** The settings at fault, by top-level name (`POLICY` for `POLICY.allow[0]`). */
  readonly settings: string[];

  /** `appNames`: the names of the apps an invalid APPS lists, where it can still be read. */
  constructor(
    readonly issues: string[],
    private readonly appNames?: readonly string[],
  ) {
    this.settings = [...new Set(issues.map(settingOf).filter((name) => name !== ""))];
  }

  /** Each app's name and whether its own part of APPS is valid; undefined without APPS. */
  get apps(): Array<{ name: string; valid: boolean }> | undefined {
    return this.appNames?.map((name, i) => ({ name, valid: !this.issues.some((issue) => issue.startsWith(`APPS[${i}]`)) }));
  }
}

function settingOf(issue: string): string {
  return /^[A-Za-z0-9_]*/.exec(issue)![0];
}

/**
 * Every request refused as misconfigured says why, not only the first one an isolate sees: each
 * issue is a line, joined to the request's decision line by its id.
 */
export function logMisconfiguration(failure: Misconfiguration, requestId: string): void {
  for (const issue of failure.issues) {
    log({ event: "config", level: "error", code: "misconfigured", requestId, setting: settingOf(issue), message: issue });
  }
}
