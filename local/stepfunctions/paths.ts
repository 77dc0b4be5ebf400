/**
 * Reference paths (`$.a.b[0]`, `$['key']`, `$$.Execution.Id`) for the few fields the local service
 * evaluates itself rather than the library: `SecondsPath`/`TimestampPath` of Wait states and
 * `HeartbeatSecondsPath` of callback tasks. ASL allows only reference paths (no wildcards or filters)
 * there, so a small evaluator is exact.
 */

/** Thrown when a path is malformed or points at nothing; surfaces as `States.Runtime`. */
export class ReferencePathError extends Error {}

function segments(path: string): (string | number)[] {
  const result: (string | number)[] = [];
  let i = 1; // after the leading '$'
  while (i < path.length) {
    const ch = path[i];
    if (ch === '.') {
      let name = '';
      i++;
      while (i < path.length && path[i] !== '.' && path[i] !== '[') name += path[i++];
      if (!name) throw new ReferencePathError(`invalid reference path ${path}`);
      result.push(name);
    } else if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw new ReferencePathError(`invalid reference path ${path}`);
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) result.push(Number(inner));
      else if (/^'.*'$|^".*"$/.test(inner)) result.push(inner.slice(1, -1));
      else throw new ReferencePathError(`only reference paths are allowed here, not ${path}`);
      i = close + 1;
    } else {
      throw new ReferencePathError(`invalid reference path ${path}`);
    }
  }
  return result;
}

/** Evaluates a reference path against the state's effective input, or the context object for `$$`. */
export function referencePath(path: string, input: unknown, context: unknown): unknown {
  const root = path.startsWith('$$') ? context : input;
  const rest = path.startsWith('$$') ? path.slice(1) : path;
  if (!rest.startsWith('$')) throw new ReferencePathError(`invalid reference path ${path}`);
  let value: unknown = root;
  for (const segment of segments(rest)) {
    if (typeof segment === 'number') {
      value = Array.isArray(value) ? value[segment] : undefined;
    } else {
      value =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? (value as Record<string, unknown>)[segment]
          : undefined;
    }
    if (value === undefined) throw new ReferencePathError(`path ${path} does not point to a value`);
  }
  return value;
}
