/**
 * The console's Content-Security-Policy: everything from this origin only, no inline script or style, no framing.
 * `data:` images are the QR code of the second-factor enrolment; `blob:` is the CSV download the console saves.
 * Imported by the console's build (for the static files' `_headers`) and by the Worker (for /docs), so the two
 * cannot drift apart.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * /docs: the API reference's bundle inserts its stylesheet as <style> elements at run time, so styles need
 * 'unsafe-inline' there; scripts stay 'self' only, and nothing may be fetched from another origin.
 */
export const docsPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
