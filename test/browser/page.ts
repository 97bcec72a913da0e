/**
 * The page of the real-browser test, bundled by cors.test.ts for Chromium: it mints a token
 * with `sts-gate/client` (in the browser, with WebCrypto) from the credentials the test put in
 * the page, calls the gate cross-origin with it, and writes what happened into #result.
 */
import { createToken } from "sts-gate/client";

interface PageInput {
  gate: string;
  audience: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

interface ResultElement {
  textContent: string | null;
  setAttribute(name: string, value: string): void;
}

declare const document: { getElementById(id: string): ResultElement | null; getElementById(id: "input"): { textContent: string | null } | null };

async function run(): Promise<unknown> {
  const input = JSON.parse(document.getElementById("input")!.textContent!) as PageInput;
  const { token } = await createToken({ credentials: input.credentials, audience: input.audience, region: "us-east-1" });
  try {
    // A non-simple request (Authorization, a JSON body): the browser sends a preflight first.
    const res = await fetch(`${input.gate}/from-the-browser?x=1`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ hello: "origin" }),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  } catch (error) {
    // What a page sees when CORS blocks a response: a TypeError, and nothing else.
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

const out = document.getElementById("result")!;
run().then(
  (result) => {
    out.textContent = JSON.stringify(result);
    out.setAttribute("data-done", "true");
  },
  (error: unknown) => {
    out.textContent = JSON.stringify({ pageError: String(error) });
    out.setAttribute("data-done", "true");
  },
);
