/**
 * Starts the API reference on /docs from the standalone bundle served beside it (no CDN, no inline script).
 * Fonts and the request proxy are Scalar's hosted services: both are turned off so the page works offline.
 */
declare const Scalar: { createApiReference(target: string, config: Record<string, unknown>): unknown };

Scalar.createApiReference('#app', {
  url: '/openapi.json',
  withDefaultFonts: false,
  hideClientButton: true,
  telemetry: false,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
});
