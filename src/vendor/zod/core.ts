// zod/v4/core as zod exports it, except that `locales` holds English only (see ./classic.ts).
export * from 'zod/v4/core';
export * as locales from './locales';
