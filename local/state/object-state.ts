/**
 * Snapshots of in-memory object graphs (the sandboxes' stores) and their restoration into freshly built
 * objects of the same classes.
 *
 * `captureFields` copies the data reachable from some fields of an owner: class instances become plain
 * objects (recursively), Maps, Sets, arrays, typed arrays and dates are copied, an object reached twice is
 * copied once (so `orders` and `orderById` still share their records after a restore). Behaviour is left
 * out: functions, and objects holding functions as own properties (closures, timers, routers) — unless the
 * object offers `captureState`/`applyState` (see {@link PersistableState}), as a seeded random generator does.
 *
 * `applyFields` writes a capture back into a live owner of the same shape: into class instances field by
 * field, into containers in place (so other holders of the same array or Map see the restored content).
 *
 * A class instance inside a collection would come back as a plain object without its methods: capture
 * refuses it, naming the path, rather than restoring something broken.
 */

/** An object that snapshots itself (its state is not plain data, e.g. a closure over a generator). */
export interface PersistableState {
  captureState(): unknown;
  applyState(state: unknown): void;
}

const SKIP = Symbol('not data');

function isPersistable(value: unknown): value is PersistableState {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PersistableState).captureState === 'function' &&
    typeof (value as PersistableState).applyState === 'function'
  );
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A builtin value container copied as such (not walked field by field). */
function isBuiltin(value: object): boolean {
  return (
    Array.isArray(value) ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Date ||
    ArrayBuffer.isView(value)
  );
}

function holdsFunctions(value: object): boolean {
  return Object.values(value).some((inner) => typeof inner === 'function');
}

/** Runtime machinery, never data: timers, abort controllers and signals, event emitters (servers, sockets). */
function isMachinery(value: object): boolean {
  const candidate = value as { hasRef?: unknown; refresh?: unknown; on?: unknown; emit?: unknown };
  return (
    value instanceof AbortController ||
    value instanceof AbortSignal ||
    (typeof candidate.hasRef === 'function' && typeof candidate.refresh === 'function') ||
    (typeof candidate.on === 'function' && typeof candidate.emit === 'function')
  );
}

/** What a capture leaves out, so its absence from a capture says nothing: functions, instances, machinery. */
function isBehaviour(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null || isBuiltin(value)) return false;
  return !isPlainObject(value) || holdsFunctions(value) || isMachinery(value);
}

function capture(value: unknown, memo: Map<object, unknown>, path: string, inCollection: boolean): unknown {
  if (typeof value === 'function') return SKIP;
  if (typeof value !== 'object' || value === null) return value;
  if (memo.has(value)) return memo.get(value);
  if (isPersistable(value)) return value.captureState();
  if (value instanceof Date) return new Date(value.getTime());
  if (ArrayBuffer.isView(value)) {
    const copy = new (value.constructor as new (source: ArrayBufferView) => ArrayBufferView)(value);
    memo.set(value, copy);
    return copy;
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    memo.set(value, copy);
    for (const [index, item] of value.entries()) {
      const captured = capture(item, memo, `${path}[${index}]`, true);
      if (captured === SKIP) return SKIP;
      copy.push(captured);
    }
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    memo.set(value, copy);
    for (const [key, item] of value) {
      const captured = capture(item, memo, `${path}.get(${String(key)})`, true);
      if (captured === SKIP) return SKIP;
      copy.set(key, captured);
    }
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set<unknown>();
    memo.set(value, copy);
    for (const item of value) {
      const captured = capture(item, memo, `${path}{}`, true);
      if (captured === SKIP) return SKIP;
      copy.add(captured);
    }
    return copy;
  }
  if (isMachinery(value)) return SKIP;
  // A plain object holding functions is behaviour (a closure bag such as the seeded retailer); a class
  // instance is walked field by field, its function-valued fields (arrow methods) left out.
  if (isPlainObject(value) && holdsFunctions(value)) return SKIP;
  if (!isPlainObject(value) && inCollection) {
    throw new Error(
      `cannot persist ${path}: a ${value.constructor?.name ?? 'class'} instance inside a collection would come back without its class`,
    );
  }
  const copy: Record<string, unknown> = {};
  memo.set(value, copy);
  for (const [key, inner] of Object.entries(value)) {
    const captured = capture(inner, memo, `${path}.${key}`, inCollection);
    if (captured !== SKIP) copy[key] = captured;
  }
  return copy;
}

/** Copies the data of `owner[field]` for each field (see the module doc); skipped fields are absent. */
export function captureFields(owner: object, fields: readonly string[]): Record<string, unknown> {
  const memo = new Map<object, unknown>();
  const data: Record<string, unknown> = {};
  for (const field of fields) {
    const captured = capture((owner as Record<string, unknown>)[field], memo, field, false);
    if (captured !== SKIP) data[field] = captured;
  }
  return data;
}

function applyInto(live: Record<string, unknown>, data: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(data)) {
    const current = live[key];
    if (isPersistable(current)) {
      current.applyState(value);
    } else if (Array.isArray(current) && Array.isArray(value)) {
      current.length = 0;
      for (const item of value) current.push(item);
    } else if (current instanceof Map && value instanceof Map) {
      current.clear();
      for (const [innerKey, item] of value) current.set(innerKey, item);
    } else if (current instanceof Set && value instanceof Set) {
      current.clear();
      for (const item of value) current.add(item);
    } else if (
      typeof current === 'object' &&
      current !== null &&
      !isBuiltin(current) &&
      typeof value === 'object' &&
      value !== null &&
      !isBuiltin(value)
    ) {
      if (isPlainObject(current) && !holdsFunctions(current)) {
        // A plain record comes back as it was saved: keys it no longer had go. A key the capture holds is
        // applied into (below), so a class instance under a plain object — a session's store, its activity —
        // keeps its class; deleting it first would put a plain copy without methods in its place.
        for (const [existing, inner] of Object.entries(current)) {
          if (!(existing in (value as Record<string, unknown>)) && !isBehaviour(inner))
            delete (current as Record<string, unknown>)[existing];
        }
      }
      applyInto(current as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      live[key] = value;
    }
  }
}

/** Writes a {@link captureFields} result back into a live owner built the same way (same seed, same options). */
export function applyFields(owner: object, data: Record<string, unknown>): void {
  applyInto(owner as Record<string, unknown>, data);
}
