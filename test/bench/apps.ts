/**
 * The benchmark's many-app gate (issue 20): `count` apps on one host, each under its own path
 * prefix with its own audience; the request is for the last app configured, whose prefix is
 * `/bench` and whose audience is the benchmark's, so routing looks at every app first.
 */
import { BENCH_AUDIENCE } from "./settings";

export const BENCH_POLICY = { allow: ["arn:aws:iam::111122223333:user/alice"] };

export function benchApps(count: number, host: string, originUrl: string): object[] {
  const apps: object[] = [];
  for (let i = 0; i < count - 1; i++) {
    apps.push({ name: `app-${i}`, hosts: [host], pathPrefix: `/app-${i}`, audience: `bench-app-${i}`, originUrl, policy: BENCH_POLICY });
  }
  apps.push({ name: "bench", hosts: [host], pathPrefix: "/bench", audience: BENCH_AUDIENCE, originUrl, policy: BENCH_POLICY });
  return apps;
}
