// What `import … from 'zod'` resolves to in the Worker bundle (wrangler.toml [alias]). Same shape as zod's own
// entry (node_modules/zod/index.js); only the namespace below differs, see ./classic.ts.
// wrangler's [alias] matches the import path exactly, so 'zod/v4/core' and 'zod/v4/locales/en.js' below still reach
// the package. Vite's and esbuild's own alias options match prefixes: there, alias /^zod$/, never the string 'zod'.
// The vitest pool does not apply wrangler's [alias]: tests run against zod itself (same behaviour, all locales).
import * as z from './classic';

export * from './classic';
export { z, z as default };
