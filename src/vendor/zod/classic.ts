// zod's classic API (`z`), exactly as node_modules/zod/v4/classic/external.js exports it, except that `z.locales`
// and `z.core.locales` hold English only.
//
// Why: @hono/zod-openapi passes the whole `z` namespace to extendZodWithOpenApi(z) and re-exports it, so the bundler
// must build the namespace object with every member, and zod's `export * as locales` then drags ~50 locale files
// (~260 KB minified, ~40 KB gzip) into the Worker. Local `export * as …` declarations take precedence over
// `export *`, so the two namespaces below replace zod's and the unused locale modules are never referenced.
//
// Error messages are unchanged: zod registers English itself the first time a schema is built
// (classic/schemas.js: `if (!core.globalConfig.localeError) core.config(en())`); nothing here calls z.config().
// The path reaches into node_modules because zod's package.json does not export ./v4/classic/external.js.
export * from '../../../node_modules/zod/v4/classic/external.js';
export * as core from './core';
export * as locales from './locales';
