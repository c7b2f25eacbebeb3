// The only locale the API uses: English, zod's default (it has no other way to change error messages).
export { default as en } from 'zod/v4/locales/en.js';
