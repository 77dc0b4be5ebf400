import type * as z from 'zod';
import * as zod from 'zod';

/**
 * Reads and validates a function's environment at cold start: a missing or malformed variable fails
 * the init with the variable's name, not the thousandth request.
 */
export function readEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid function environment: ${problems}`);
  }
  return parsed.data;
}

/** A variable holding JSON that must match `schema` (e.g. a config object set by the stack). */
export const jsonVariable = <S extends z.ZodType>(schema: S) =>
  zod.string().transform((text, ctx): z.infer<S> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
      return zod.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data as z.infer<S>;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
    }
    return zod.NEVER;
  });
