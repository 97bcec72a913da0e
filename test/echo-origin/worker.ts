/**
 * The demo origin: answers with exactly what it received, so a person (or a test) can see
 * which headers the gate forwarded and which it stripped.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/redirect")) {
      return new Response(null, { status: 302, headers: { location: "https://elsewhere.example/next" } });
    }
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    return Response.json({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
    });
  },
};
