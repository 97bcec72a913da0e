/**
 * English for the issues a schema's own `error` does not word ("Unrecognized key", "Too big"),
 * given per parse. zod/mini loads no locale, and setting one with `z.config` would change the
 * zod of an app that imports this library.
 */
import en from "zod/v4/locales/en.js";

export const ENGLISH = { error: en().localeError } as const;
