import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * Seeded random source for the sandboxes.
 *
 * Every random choice a sandbox makes (seed data, scenario activity, fault
 * decisions, webhook duplicates) goes through one of these, so the same seed
 * and the same sequence of calls always give the same result — which is what
 * makes sandbox-driven tests reproducible. Never use `Math.random` in sandbox code.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** One element of a non-empty array; throws on an empty one (a caller bug). */
  pick<T>(arr: readonly T[]): T;
  /** True with probability `p` (clamped to [0, 1]); draws nothing when p is 0 or 1. */
  chance(p: number): boolean;
  /** A new array with the elements of `arr` in random order (Fisher–Yates). */
  shuffle<T>(arr: readonly T[]): T[];
  /**
   * An independent stream derived from this one (xoroshiro128+ jump), so one
   * concern (e.g. fault decisions) does not shift another's sequence (e.g.
   * scenario data) when its number of draws changes.
   */
  fork(): Rng;
  /** A 32-hex-digit id (RFC 4122 v4 layout) drawn from this stream, for deterministic ids. */
  uuid(): string;
  /** The generator's position, so a sandbox restarted by the local cloud goes on where it stopped. */
  captureState(): unknown;
  applyState(state: unknown): void;
}

/** Creates a deterministic {@link Rng} (xoroshiro128+ from `pure-rand`) for `seed`. */
export function createRng(seed: number): Rng {
  return wrap(xoroshiro128plus(seed | 0));
}

function wrap(gen: JumpableRandomGenerator): Rng {
  const rng: Rng = {
    next: () => uniformFloat64(gen),
    int: (min, max) => {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
        throw new RangeError(`rng.int: invalid range [${min}, ${max}]`);
      }
      return uniformInt(gen, min, max);
    },
    pick: (arr) => {
      if (arr.length === 0) throw new RangeError('rng.pick: empty array');
      return arr[uniformInt(gen, 0, arr.length - 1)] as (typeof arr)[number];
    },
    chance: (p) => {
      if (p <= 0) return false;
      if (p >= 1) return true;
      return uniformFloat64(gen) < p;
    },
    shuffle: (arr) => {
      const out = [...arr];
      for (let i = out.length - 1; i > 0; i--) {
        const j = uniformInt(gen, 0, i);
        const a = out[i] as (typeof out)[number];
        out[i] = out[j] as (typeof out)[number];
        out[j] = a;
      }
      return out;
    },
    fork: () => {
      const child = gen.clone();
      child.jump();
      // Advance the parent too, so two successive forks are independent.
      gen.jump();
      gen.jump();
      return wrap(child);
    },
    // xoroshiro128+ state as pure-rand 8 keeps it: getState() is [s01, s00, s11, s10], the public fields.
    captureState: () => gen.getState(),
    applyState: (state) => {
      const [s01, s00, s11, s10] = state as [number, number, number, number];
      Object.assign(gen, { s01, s00, s11, s10 });
    },
    uuid: () => {
      let hex = '';
      for (let i = 0; i < 4; i++) hex += (uniformInt(gen, 0, 0xffffffff) >>> 0).toString(16).padStart(8, '0');
      const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
  return rng;
}
