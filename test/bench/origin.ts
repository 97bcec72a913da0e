/**
 * The benchmark's origin: a Node `http` server with a small fixed answer, in its own process
 * so that it does not share an event loop with the load generator or with Miniflare.
 * Listens on 127.0.0.1 on a free port and sends `{ port }` to its parent over IPC.
 */
import { createServer } from "node:http";
import process from "node:process";

const BODY = Buffer.from('{"ok":true}\n');

const server = createServer((request, response) => {
  // Drain any body so the connection can be reused.
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json", "content-length": BODY.length });
    response.end(BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("origin: no TCP address");
  process.send?.({ port: address.port });
});
process.on("disconnect", () => server.close(() => process.exit(0)));
