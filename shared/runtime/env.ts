import type * as z from 'zod';

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
