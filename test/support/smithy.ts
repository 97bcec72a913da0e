import { SignatureV4 } from "@smithy/signature-v4";
import { identity, TEST_AUDIENCE, encodeToken, amzDate } from "./tokens";

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** The AWS SDK's Checksum interface over WebCrypto, so the SDK signer runs in workerd. */
class WebCryptoSha256 {
  private chunks: Uint8Array[] = [];
  constructor(private readonly secret?: SourceData) {}

  update(data: SourceData): void {
    this.chunks.push(toBytes(data));
  }

  async digest(): Promise<Uint8Array> {
    const data = concat(this.chunks);
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const key = await crypto.subtle.importKey("raw", toBytes(this.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  }

  reset(): void {
    this.chunks = [];
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A token presigned by the AWS SDK's own signer (`@smithy/signature-v4`). */
export async function mintSmithyToken(name: string, options: { region?: string; host?: string; at: number; audience?: string }): Promise<string> {
  const who = identity(name);
  const region = options.region ?? "us-east-1";
  const host = options.host ?? `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({
    service: "sts",
    region,
    credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey, sessionToken: who.sessionToken },
    sha256: WebCryptoSha256,
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host, "x-k8s-aws-id": options.audience ?? TEST_AUDIENCE },
    },
    { expiresIn: 60, signingDate: new Date(options.at) },
  );
  const query = Object.entries(presigned.query ?? {})
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join("&");
  return encodeToken(`https://${host}/?${query}`);
}

export { amzDate };
