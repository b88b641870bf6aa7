import { afterEach, describe, expect, it } from 'vitest';
import { InputDelayMeter } from './input-delay';

/** Waits until the meter has published a figure for the urgent mode (rAF, a posted task, the batch timer). */
async function figures(meter: InputDelayMeter, count: number): Promise<number[]> {
  for (const until = Date.now() + 3000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 10))) {
    const { delays } = meter.getSnapshot().urgent;
    if (delays.length >= count) return delays;
  }
  return meter.getSnapshot().urgent.delays;
}

/** An event stamped as a browser stamps it (ms since the time origin; jsdom stamps Date.now()). */
function stamped<E extends Event>(event: E): E {
  Object.defineProperty(event, 'timeStamp', { value: performance.now() });
  return event;
}

describe('InputDelayMeter', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('times an input without a keydown of its own (the clear button, a mouse paste) from the input, not from an earlier key that typed nothing', async () => {
    const meter = new InputDelayMeter();
    const input = document.createElement('input');
    document.body.append(input);
    stop = meter.attach(input);
    // An arrow key: keydown and keyup, no input.
    input.dispatchEvent(stamped(new KeyboardEvent('keydown', { key: 'ArrowLeft' })));
    input.dispatchEvent(stamped(new KeyboardEvent('keyup', { key: 'ArrowLeft' })));
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Then the field is cleared with the mouse: an input event alone.
    input.dispatchEvent(stamped(new Event('input')));
    const [delay] = await figures(meter, 1);
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay!).toBeLessThan(300); // from the stale keydown it read 400 ms and more
  });

  it('times a typed key from its keydown', async () => {
    const meter = new InputDelayMeter();
    const input = document.createElement('input');
    document.body.append(input);
    stop = meter.attach(input);
    input.dispatchEvent(stamped(new KeyboardEvent('keydown', { key: 'a' })));
    await new Promise((resolve) => setTimeout(resolve, 150)); // a busy main thread between keydown and input
    input.dispatchEvent(stamped(new Event('input')));
    input.dispatchEvent(stamped(new KeyboardEvent('keyup', { key: 'a' })));
    const [delay] = await figures(meter, 1);
    expect(delay!).toBeGreaterThanOrEqual(140);
  });
});
