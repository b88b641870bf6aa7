import { describe, expect, it } from 'vitest';
import { ephemeralPorts, freePortRange, portBaseWindow, portFree } from '../src/ports';

describe('freePortRange', () => {
  it('draws its bases below the ephemeral range, above it when below is too small, else 20000–49999', () => {
    // Linux's default range: every port of the range stays under 32768.
    expect(portBaseWindow(10, [32_768, 60_999])).toEqual({ from: 20_000, to: 32_758 });
    // macOS and Windows (49152–65535): below it.
    expect(portBaseWindow(5, [49_152, 65_535])).toEqual({ from: 20_000, to: 49_147 });
    // A range that starts low: above it.
    expect(portBaseWindow(10, [10_000, 60_999])).toEqual({ from: 61_000, to: 65_526 });
    // Nearly every port given to clients: the old window.
    expect(portBaseWindow(10, [1_024, 65_535])).toEqual({ from: 20_000, to: 49_990 });
  });

  it('returns consecutive free ports outside this machine’s ephemeral range', async () => {
    const [low, high] = ephemeralPorts();
    expect(low).toBeLessThanOrEqual(high);
    for (let i = 0; i < 20; i++) {
      const base = await freePortRange(10);
      const last = base + 9;
      expect(last < low || base > high || (low < 20_000 + 1_010 && high > 65_535 - 1_010)).toBe(true);
      expect(await portFree(base)).toBe(true);
    }
  });
});
