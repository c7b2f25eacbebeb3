import type { Hook } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { AppEnv } from '../env';
import { validationFailed, type FieldError } from './errors';

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    // An unknown key is reported at its own path, so a client sees which field to drop.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: 'is not an accepted field' }));
    }
    return [{ path: base.join('.'), message: issue.message }];
  });
}

/** Every validator in the app reports through this hook, so a 422 always looks the same. */
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) throw validationFailed(fieldErrors(result.error as z.ZodError));
};
