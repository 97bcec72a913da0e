/** One log line of a Worker in a Miniflare started from Node, parsed; a line that is not JSON as `{ text }`. */
export type LogLine = Record<string, unknown>;

/**
 * A Miniflare `handleStructuredLogs` that keeps each line in `lines` instead of printing it, so
 * a test can assert on the gate's lines and a passing run stays quiet.
 */
export function keepLogLines(lines: LogLine[]): (entry: { message: string }) => void {
  return ({ message }) => {
    try {
      lines.push(JSON.parse(message) as LogLine);
    } catch {
      lines.push({ text: message });
    }
  };
}
