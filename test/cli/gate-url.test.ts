import { describe, expect, it } from "vitest";
import type { CliError } from "../../src/cli/aws-config";
import { gateUrl } from "../../src/cli/gate-url";

/**
 * Rule `cliGateHttps` as a pure function: the one check every command that sends a token
 * (`revoke`, `revocations`, `unrevoke`, `whoami`, `proxy`) makes of its --gate. The commands
 * themselves, against the gate in workerd: test/cli/revoke.test.ts, cli.test.ts, proxy.test.ts.
 */
const usage = (message: string) => Object.assign(new Error(message), { exitCode: 2 }) as CliError;

function refusal(text: string | undefined): string {
  try {
    gateUrl(text, usage);
  } catch (error) {
    return (error as Error).message;
  }
  return expect.fail(`--gate ${JSON.stringify(text)} was accepted`);
}

describe("cliGateHttps", () => {
  it.each([
    "https://gate.example.com",
    "https://gate.example.com:8443/",
    "http://127.0.0.1:8787",
    "http://127.1.2.3:8787",
    "http://localhost:8787",
    "http://LOCALHOST:8787",
    "http://[::1]:8787",
  ])("takes %s", (text) => {
    expect(gateUrl(text, usage).href).toBe(new URL(text).href);
  });

  it.each([
    "http://gate.example.com",
    "http://10.0.0.5:8787",
    "http://0.0.0.0:8787",
    // Names that look like this machine but that a resolver may send anywhere.
    "http://127.0.0.1.nip.io:8787",
    "http://127.evil.example:8787",
    "http://gate.localhost:8787",
    "http://localhost.example.com:8787",
  ])("refuses plain http to %s: the token would cross the network in the clear", (text) => {
    expect(refusal(text)).toBe("--gate must be an https URL (http only for a loopback host, e.g. http://127.0.0.1:8787)");
  });

  it.each(["ws://127.0.0.1:8787", "file:///etc/passwd", "ftp://gate.example.com"])("refuses the scheme of %s", (text) => {
    expect(refusal(text)).toMatch(/^--gate must be an https URL/);
  });

  it.each(["https://user:pass@gate.example.com", "https://gate.example.com/?x=1", "https://gate.example.com/#f"])("refuses %s: credentials, a query or a fragment", (text) => {
    expect(refusal(text)).toBe("--gate must not carry credentials, a query or a fragment");
  });

  it("refuses a missing or unparsable --gate with a usage error", () => {
    expect(refusal(undefined)).toBe("--gate is required");
    expect(refusal("gate.example.com")).toBe('--gate is not a URL: "gate.example.com"');
    expect(() => gateUrl(undefined, usage)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
