// TrafficSplit: which color serves a request. Unsticky requests follow a smooth weighted round-robin (a 90/10
// split is exact over every 10 requests); a session id hashes (64-bit FNV-1a) into one of 10,000 buckets, and
// buckets below blue's weight×100 go to blue, so moving the weight by k points moves only the sessions in k% of
// the buckets. Both honour readiness: a color that is not ready, or has weight 0, gets nothing.
import type { Color } from '../infra/runtime.js';
import type { Weights } from './state.js';

export const SESSION_BUCKETS = 10_000;

export type Eligibility = Readonly<Record<Color, boolean>>;

export interface TrafficSplit {
  setWeights(weights: Weights): void;
  weight(color: Color): number;
  /** A color for one request, or undefined when no weighted color is eligible (ready). */
  pick(eligible: Eligibility, session?: string): Color | undefined;
}

export function createTrafficSplit(initial: Weights): TrafficSplit {
  let w: Weights = { ...initial };
  // Smooth weighted round-robin state (nginx's algorithm): add each weight, take the largest, subtract the total.
  let currentBlue = 0;
  let currentGreen = 0;

  return {
    setWeights(next) {
      w = { ...next };
      currentBlue = 0;
      currentGreen = 0;
    },
    weight: (color) => w[color],
    pick(eligible, session) {
      const blue = eligible.blue && w.blue > 0;
      const green = eligible.green && w.green > 0;
      if (!blue || !green) return blue ? 'blue' : green ? 'green' : undefined;
      if (session !== undefined) return sessionBucket(session) < w.blue * 100 ? 'blue' : 'green';
      currentBlue += w.blue;
      currentGreen += w.green;
      if (currentBlue >= currentGreen) {
        currentBlue -= 100;
        return 'blue';
      }
      currentGreen -= 100;
      return 'green';
    },
  };
}

const TWO_32 = 0x1_0000_0000;

/** 64-bit FNV-1a of the UTF-8 bytes, as [high, low] unsigned 32-bit halves (no BigInt on the request path). */
export function fnv1a64(text: string): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    lo ^= bytes[i]!;
    lo >>>= 0;
    // (hi:lo) *= 0x100000001b3  ==  (hi:lo) * 0x1b3 + (lo << 40)
    const loProduct = lo * 0x1b3; // < 2^41: exact in a double
    const carry = Math.floor(loProduct / TWO_32);
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) % TWO_32;
    lo = loProduct % TWO_32;
  }
  return [hi >>> 0, lo >>> 0];
}

/** The session's bucket in [0, 10000): the 64-bit hash modulo 10,000. */
export function sessionBucket(session: string): number {
  const [hi, lo] = fnv1a64(session);
  return ((hi % SESSION_BUCKETS) * (TWO_32 % SESSION_BUCKETS) + lo) % SESSION_BUCKETS;
}
