/** Vite's `?raw` import: a file's text, as doctor.test.ts reads the repository's wrangler.toml. */
declare module "*?raw" {
  const text: string;
  export default text;
}
