import { describe, expect, it } from "vitest";
import { CorsAllowedOriginsSchema } from "../src/cors";

describe("CORS_ALLOWED_ORIGINS", () => {
  it("parses a comma-separated list of exact origins, spaces around commas allowed", () => {
    const parsed = CorsAllowedOriginsSchema.parse("https://app.example.com, http://localhost:5173,https://a.example:8443");
    expect([...parsed]).toEqual(["https://app.example.com", "http://localhost:5173", "https://a.example:8443"]);
  });

  it("an empty value allows no origin", () => {
    expect(CorsAllowedOriginsSchema.parse("").size).toBe(0);
  });

  it("refuses '*' with a message that says why", () => {
    const result = CorsAllowedOriginsSchema.safeParse("*");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/'\*' is refused/);
  });

  it.each([
    "https://app.example.com/",
    "https://APP.example.com",
    "https://app.example.com:443",
    "ftp://app.example.com",
    "https://user@app.example.com",
    "null",
    "https://app.example.com/path",
  ])("refuses %s: only the serialized origin a browser sends can match", (entry) => {
    const result = CorsAllowedOriginsSchema.safeParse(entry);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([0]);
  });
});
