/**
 * A servlet-style origin behind the gate (ATTACKS #32): like Tomcat, Jetty and Spring, it drops
 * `;…` path parameters from every segment before routing, so `/files/salaries.xlsx;.pdf` serves
 * salaries.xlsx and `/.well-known/sts-gate;/revocations` routes as the gate's prefix. No JVM is
 * needed to show the class: the router below does what the containers do.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen, startGate, type GateHarness } from "./harness";

const ALICE = "arn:aws:iam::111122223333:user/alice";

/** Servlet path resolution: path parameters dropped from each segment, then the files. */
export function servletPath(target: string): string {
  const path = target.split("?")[0]!;
  return path
    .split("/")
    .map((segment) => decodeURIComponent(segment.split(";")[0]!))
    .join("/");
}

const FILES: Record<string, string> = {
  "/files/report.pdf": "the public report",
  "/files/salaries.xlsx": "SALARIES",
};

describe("a servlet-style origin behind the gate", () => {
  let origin: Server;
  const seen: string[] = [];
  let gate: GateHarness;

  beforeAll(async () => {
    origin = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = servletPath(req.url ?? "/");
      seen.push(path);
      const body = FILES[path] ?? (path.startsWith("/.well-known/sts-gate") ? "THE ORIGIN ROUTED THE GATE'S PREFIX" : undefined);
      res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain" }).end(body ?? "no such file");
    });
    const port = await listen(origin);
    gate = await startGate(port, {
      ORIGIN_URL: "http://servlet.local",
      POLICY: { rules: [{ name: "pdfs", methods: ["GET"], paths: ["/files/*.pdf"], allow: [ALICE] }] },
    });
  }, 120_000);

  afterAll(async () => {
    await gate?.dispose();
    await new Promise((done) => (origin ? origin.close(done) : done(undefined)));
  });

  async function get(path: string): Promise<Response> {
    return fetch(`${gate.url}${path}`, { headers: { authorization: `Bearer ${await gate.token()}` } });
  }

  it("the origin is what the attack needs: it serves salaries.xlsx for salaries.xlsx;.pdf", () => {
    expect(servletPath("/files/salaries.xlsx;.pdf")).toBe("/files/salaries.xlsx");
    expect(servletPath("/.well-known/sts-gate;/revocations")).toBe("/.well-known/sts-gate/revocations");
  });

  it("a PDF under paths = ['/files/*.pdf'] is served", async () => {
    const res = await get("/files/report.pdf");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("the public report");
  });

  it.each([["/files/salaries.xlsx;.pdf"], ["/files/salaries.xlsx;jsessionid=1.pdf"], ["/files/salaries.xlsx%3B.pdf"], ["/files;x/salaries.xlsx;.pdf"]])(
    "%s matches no path glob: 403, and the spreadsheet is never served",
    async (path) => {
      const before = seen.length;
      const res = await get(path);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("policy_denied");
      expect(seen.length).toBe(before);
    },
  );

  it.each([["/.well-known/sts-gate;/revocations"], ["/.well-known;/sts-gate/revocations"], ["/.well-known/sts-gate;x=1/revocations"], ["/.well-known/sts-gate%3B/revocations"]])(
    "%s is the gate's prefix: 404 from the gate, never routed by the origin",
    async (path) => {
      const before = seen.length;
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe("not_found");
      expect(seen.length).toBe(before);
    },
  );
});
