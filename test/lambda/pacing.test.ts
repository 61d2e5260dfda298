/**
 * How an instance takes its share of the stack's pace of Service Catalog calls (lambda/pacing.ts).
 */
import { hashFraction, lateSpreadMs, pollIntervalFor, spreadDelayMs, spreadWindowMs, writeSlot } from '../../lambda/pacing';

const TIMING = { fastPathWindowMs: 15_000, readSpacingMs: 63, writeSpacingMs: 625 };

describe('hashFraction', () => {
  test('the same key gives the same fraction, in [0, 1)', () => {
    expect(hashFraction('req-1')).toBe(hashFraction('req-1'));
    for (const key of ['', 'a', 'req-1', '2c6a3a3e-8c1f-4f39-9a5e-1f0c7b1e2d33']) {
      expect(hashFraction(key)).toBeGreaterThanOrEqual(0);
      expect(hashFraction(key)).toBeLessThan(1);
    }
  });

  test('request ids spread evenly: each tenth of the range gets about a tenth of them', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) tenths[Math.floor(hashFraction(`request-${i}-of-the-stack`) * 10)]++;
    for (const n of tenths) expect(Math.abs(n - 1_000)).toBeLessThan(150);
  });
});

describe('spread', () => {
  test('a stack of one instance waits for nothing', () => {
    expect(spreadWindowMs(1, 625)).toBe(0);
    expect(spreadDelayMs(0.99, 1, 625)).toBe(0);
    expect(writeSlot(1_000, 'req-1', 1, 625)).toBe(1_000);
  });

  test('N instances at one call per spacing take (N − 1) spacings', () => {
    expect(spreadWindowMs(400, 625)).toBe(399 * 625);
    expect(spreadDelayMs(0.5, 3, 100)).toBe(100);
    expect(spreadDelayMs(0, 400, 625)).toBe(0);
  });

  test('a write slot is the same for every call of a request, and within the window after onEvent', () => {
    const slot = writeSlot(10_000, 'req-7', 200, 625);
    expect(writeSlot(10_000, 'req-7', 200, 625)).toBe(slot);
    expect(slot).toBeGreaterThanOrEqual(10_000);
    expect(slot).toBeLessThan(10_000 + 199 * 625);
  });

  test('nonsense from the environment spreads nothing rather than everything', () => {
    expect(spreadWindowMs(0, 625)).toBe(0);
    expect(spreadWindowMs(10, -5)).toBe(0);
  });
});

describe('pollIntervalFor', () => {
  test('a small stack polls at the handler interval, as one instance does', () => {
    expect(pollIntervalFor(1_000, 1, TIMING)).toBe(1_000);
    expect(pollIntervalFor(1_000, 10, TIMING)).toBe(1_000);
  });

  test('a stack of one polls at the handler interval however short, with no read pace to share', () => {
    expect(pollIntervalFor(10, 1, TIMING)).toBe(10);
    expect(pollIntervalFor(10, 2, TIMING)).toBe(2 * 63);
  });

  test('a large stack polls as often as the instances watching at once can together keep to the read pace', () => {
    // At most one write per 625 ms within a 15 s window: 24 watchers, one read per 63 ms between them.
    expect(pollIntervalFor(1_000, 400, TIMING)).toBe(24 * 63);
    expect(pollIntervalFor(1_000, 400, { ...TIMING, readSpacingMs: 10 })).toBe(1_000);
  });
});

describe('lateSpreadMs', () => {
  test('a call on time, or late by less than the pace, goes at once', () => {
    expect(lateSpreadMs(0, 625, 0.9)).toBe(0);
    expect(lateSpreadMs(600, 625, 0.9)).toBe(0);
    expect(lateSpreadMs(-100, 625, 0.9)).toBe(0);
  });

  test('a call late by more spreads again over the time it lost', () => {
    expect(lateSpreadMs(10_000, 625, 0.5)).toBe(5_000);
    expect(lateSpreadMs(10_000, 625, 0)).toBe(0);
  });
});
