import { summarize } from './percentile';
import type { DelaySummary } from './percentile';

export type LabMode = 'urgent' | 'transition' | 'deferred';
export const LAB_MODES: readonly LabMode[] = ['urgent', 'transition', 'deferred'];

interface Sample {
  /** Timestamp of the keystroke (the keydown's event.timeStamp, or the input's when no keydown was seen). */
  start: number;
  keydownTs: number | null;
  inputTs: number;
  /** Delay to the next frame measured with rAF + a posted task (the fallback). */
  frameDelay: number | null;
  /** Delay to the next paint reported by the Event Timing API, when it reported this keystroke. */
  eventTimingEnd: number | null;
}

export interface ModeStats extends DelaySummary {
  /** Samples whose figure came from Event Timing (the rest from the rAF fallback). */
  fromEventTiming: number;
  /** Every measured delay, ms, in keystroke order. */
  delays: number[];
}

export type LabStats = Record<LabMode, ModeStats>;

/** Event Timing entries below this are not reported; such keystrokes keep the rAF figure. */
const EVENT_TIMING_THRESHOLD_MS = 16;
/** Timestamps of one event seen by a listener and by Event Timing agree to well under this. */
const MATCH_TOLERANCE_MS = 0.5;

interface EventTimingEntry extends PerformanceEntry {
  readonly processingStart: number;
  readonly interactionId?: number;
}

// Event Timing reports the paint per event; when keydown and input run in separate tasks the
// frame measured after the input can be later, so the later of the two is the keystroke's delay.
function delayOf(sample: Sample): number | null {
  if (sample.eventTimingEnd !== null) return Math.max(sample.eventTimingEnd - sample.start, sample.frameDelay ?? 0);
  return sample.frameDelay;
}

/**
 * Measures, per keystroke in an input box, the delay from the key press to the next paint:
 * Event Timing (`PerformanceObserver` type `event`, durationThreshold 16) where the browser has
 * it, otherwise `performance.now()` in a task posted from the next `requestAnimationFrame`.
 * Samples are kept per lab mode. Subscribe with useSyncExternalStore.
 * @example const meter = new InputDelayMeter(); const stop = meter.attach(input); meter.setMode('urgent')
 */
export class InputDelayMeter {
  #mode: LabMode = 'urgent';
  #samples: Record<LabMode, Sample[]> = { urgent: [], transition: [], deferred: [] };
  #listeners = new Set<() => void>();
  #stats: LabStats = this.#compute();
  #notifyTimer: ReturnType<typeof setTimeout> | null = null;
  readonly eventTimingSupported: boolean;

  constructor(private readonly notifyDelayMs = 250) {
    this.eventTimingSupported = typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes('event');
  }

  setMode(mode: LabMode) {
    this.#mode = mode;
  }

  reset(mode?: LabMode) {
    if (mode) this.#samples[mode] = [];
    else this.#samples = { urgent: [], transition: [], deferred: [] };
    this.#publish(true);
  }

  /** Starts measuring keystrokes in `input`; returns a function that stops it. */
  attach(input: HTMLElement): () => void {
    let pendingKeydown: number | null = null;
    const onKeyDown = (event: KeyboardEvent) => {
      pendingKeydown = event.timeStamp;
    };
    // A key that typed nothing (an arrow, Shift, Tab) must not become the start of a later input
    // that had no keydown (the clear button, a paste with the mouse): its input comes before its keyup.
    const onKeyUp = () => {
      pendingKeydown = null;
    };
    // A native listener on the input runs before React's delegated onChange, so the frame
    // requested here is the first one after whatever work this keystroke triggers.
    const onInput = (event: Event) => {
      const sample: Sample = {
        start: pendingKeydown ?? event.timeStamp,
        keydownTs: pendingKeydown,
        inputTs: event.timeStamp,
        frameDelay: null,
        eventTimingEnd: null,
      };
      pendingKeydown = null;
      this.#samples[this.#mode].push(sample);
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          sample.frameDelay = performance.now() - sample.start;
          channel.port1.close();
          this.#publish();
        };
        channel.port2.postMessage(null);
      });
    };
    input.addEventListener('keydown', onKeyDown);
    input.addEventListener('keyup', onKeyUp);
    input.addEventListener('input', onInput);

    let observer: PerformanceObserver | null = null;
    if (this.eventTimingSupported) {
      observer = new PerformanceObserver((list) => this.#onEntries(list.getEntries() as EventTimingEntry[]));
      observer.observe({ type: 'event', durationThreshold: EVENT_TIMING_THRESHOLD_MS, buffered: false } as PerformanceObserverInit);
    }
    return () => {
      input.removeEventListener('keydown', onKeyDown);
      input.removeEventListener('keyup', onKeyUp);
      input.removeEventListener('input', onInput);
      observer?.disconnect();
    };
  }

  #onEntries(entries: EventTimingEntry[]) {
    let matched = false;
    for (const entry of entries) {
      if (entry.name !== 'keydown' && entry.name !== 'input' && entry.name !== 'keypress' && entry.name !== 'beforeinput') continue;
      const sample = this.#find(entry);
      if (!sample) continue;
      const end = entry.startTime + entry.duration;
      sample.eventTimingEnd = Math.max(sample.eventTimingEnd ?? 0, end);
      matched = true;
    }
    if (matched) this.#publish();
  }

  #find(entry: EventTimingEntry): Sample | undefined {
    // keydown/keypress share the keydown's timestamp; beforeinput/input share the input's.
    const byKeydown = entry.name === 'keydown' || entry.name === 'keypress';
    for (const mode of LAB_MODES) {
      const list = this.#samples[mode];
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i]!;
        const ts = byKeydown ? s.keydownTs : s.inputTs;
        if (ts !== null && Math.abs(ts - entry.startTime) < MATCH_TOLERANCE_MS) return s;
        if (s.start < entry.startTime - 60_000) break;
      }
    }
    return undefined;
  }

  #compute(): LabStats {
    const stats = {} as LabStats;
    for (const mode of LAB_MODES) {
      const samples = this.#samples[mode];
      const delays = samples.map(delayOf).filter((d): d is number => d !== null);
      stats[mode] = { ...summarize(delays), fromEventTiming: samples.filter((s) => s.eventTimingEnd !== null).length, delays };
    }
    return stats;
  }

  // Stats are published in batches: re-rendering the figures on every keystroke would itself
  // compete with the render being measured.
  #publish(now = false) {
    if (now) {
      if (this.#notifyTimer) clearTimeout(this.#notifyTimer);
      this.#notifyTimer = null;
      this.#flush();
      return;
    }
    if (this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = null;
      this.#flush();
    }, this.notifyDelayMs);
  }

  #flush() {
    this.#stats = this.#compute();
    for (const listener of this.#listeners) listener();
  }

  /** Measured figures per mode (a new object after each change). */
  getSnapshot = (): LabStats => this.#stats;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}
