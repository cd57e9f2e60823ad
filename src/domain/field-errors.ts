import type { z } from 'zod';
import type { FieldError } from './article-input.js';

/** zod issues → `{path, message}` with dotted paths (prefix included), the shape of problem+json `errors`. */
export function zodIssuesToFieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    return { path, message: missing ? 'is required' : issue.message };
  });
}

export function prefixErrors(errors: FieldError[], prefix: string): FieldError[] {
  if (!prefix) return errors;
  return errors.map((e) => ({ path: e.path ? `${prefix}.${e.path}` : prefix, message: e.message }));
}
