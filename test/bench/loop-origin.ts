/** The loop's origin (test/bench/loop.ts): a trivial Worker behind a service binding, a small fixed answer. */
export default {
  fetch(): Response {
    return new Response('{"ok":true}\n', { headers: { "content-type": "application/json" } });
  },
} satisfies ExportedHandler;
