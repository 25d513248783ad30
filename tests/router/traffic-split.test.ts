// TrafficSplit: exact weighted round-robin, readiness, sticky sessions and minimal movement when weights change.
import { describe, expect, it } from 'vitest';
import { createTrafficSplit, fnv1a64, sessionBucket } from '../../router/traffic-split.js';

const bothReady = { blue: true, green: true };

function countPicks(split: ReturnType<typeof createTrafficSplit>, n: number, ready = bothReady) {
  const counts = { blue: 0, green: 0, none: 0 };
  for (let i = 0; i < n; i++) counts[split.pick(ready) ?? 'none']++;
  return counts;
}

describe('TrafficSplit', () => {
  it('splits unsticky requests 90/10 exactly within every 10 requests', () => {
    const split = createTrafficSplit({ blue: 90, green: 10 });
    for (let round = 0; round < 20; round++) expect(countPicks(split, 10)).toEqual({ blue: 9, green: 1, none: 0 });
  });

  it('splits 2,000 requests at 73/27 exactly', () => {
    expect(countPicks(createTrafficSplit({ blue: 73, green: 27 }), 2000)).toEqual({ blue: 1460, green: 540, none: 0 });
  });

  it('sends nothing to a color that is not ready, whatever its weight', () => {
    const split = createTrafficSplit({ blue: 90, green: 10 });
    expect(countPicks(split, 100, { blue: false, green: true })).toEqual({ blue: 0, green: 100, none: 0 });
  });

  it('sends nothing to a ready color with weight 0, and picks no color when no weighted color is ready', () => {
    const split = createTrafficSplit({ blue: 100, green: 0 });
    expect(countPicks(split, 10)).toEqual({ blue: 10, green: 0, none: 0 });
    expect(countPicks(split, 10, { blue: false, green: true })).toEqual({ blue: 0, green: 0, none: 10 });
  });

  it('gives a session the same color on every request at a given weight', () => {
    const split = createTrafficSplit({ blue: 50, green: 50 });
    for (let s = 0; s < 200; s++) {
      const first = split.pick(bothReady, `session-${s}`);
      for (let i = 0; i < 5; i++) expect(split.pick(bothReady, `session-${s}`)).toBe(first);
    }
  });

  it('splits sessions close to the weights', () => {
    const split = createTrafficSplit({ blue: 90, green: 10 });
    let green = 0;
    for (let s = 0; s < 10_000; s++) if (split.pick(bothReady, `user-${s}`) === 'green') green++;
    expect(green / 10_000).toBeGreaterThan(0.09);
    expect(green / 10_000).toBeLessThan(0.11);
  });

  it('moves only about k% of sessions, all towards the color that gained, when the weight moves by k points', () => {
    const split = createTrafficSplit({ blue: 90, green: 10 });
    const sessions = Array.from({ length: 10_000 }, (_, i) => `client-${i}-${i * 7919}`);
    const before = sessions.map((s) => split.pick(bothReady, s));
    split.setWeights({ blue: 75, green: 25 });
    const after = sessions.map((s) => split.pick(bothReady, s));
    const moved = sessions.filter((_, i) => before[i] !== after[i]).length;
    const movedToBlue = sessions.filter((_, i) => before[i] === 'green' && after[i] === 'blue').length;
    expect(movedToBlue).toBe(0);
    expect(moved / sessions.length).toBeGreaterThan(0.13);
    expect(moved / sessions.length).toBeLessThan(0.17);
  });

  it('sends the sessions of a color that is not ready to the other color', () => {
    const split = createTrafficSplit({ blue: 50, green: 50 });
    for (let s = 0; s < 100; s++) expect(split.pick({ blue: true, green: false }, `s${s}`)).toBe('blue');
  });
});

describe('session hash', () => {
  it('is 64-bit FNV-1a over the UTF-8 bytes (reference vectors)', () => {
    const hex = (t: string) => fnv1a64(t).map((h) => h.toString(16).padStart(8, '0')).join('');
    expect(hex('')).toBe('cbf29ce484222325');
    expect(hex('a')).toBe('af63dc4c8601ec8c');
    expect(hex('foobar')).toBe('85944171f73967e8');
    expect(hex('ñandú')).toBe(fnvReference('ñandú'));
  });

  it('maps a session to the hash modulo 10,000', () => {
    for (const s of ['a', 'foobar', 'session-42', 'ñandú']) {
      expect(sessionBucket(s)).toBe(Number(BigInt('0x' + fnvReference(s)) % 10_000n));
    }
  });
});

/** FNV-1a 64 with BigInt, the textbook way. */
function fnvReference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}
