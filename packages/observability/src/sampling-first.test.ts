import { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { InMemorySpanExporter, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { initTracing, injectContext } from './tracing';

function setup(sampler: Parameters<typeof initTracing>[0]['sampler']) {
  const exporter = new InMemorySpanExporter();
  const tracing = initTracing({ serviceName: 'sampling-first', exporter, sampler, registerGlobal: false });
  return { tracing, exporter };
}

describe('sampling before the SDK makes a span', () => {
  it('records exactly the root spans the configured ratio sampler chooses by trace id, at about that ratio', () => {
    const { tracing, exporter } = setup({ name: 'parentbased_traceidratio', arg: 0.25 });
    const reference = new TraceIdRatioBasedSampler(0.25);
    let recorded = 0;
    const traceIds = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const span = tracing.tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      const { traceId, spanId, traceFlags } = span.spanContext();
      expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
      traceIds.add(traceId);
      const chosen = reference.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      expect(span.isRecording()).toBe(chosen);
      expect(traceFlags).toBe(chosen ? TraceFlags.SAMPLED : TraceFlags.NONE);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      if (chosen) recorded++;
      span.end();
    }
    expect(traceIds.size).toBe(4000);
    expect(recorded / 4000).toBeGreaterThan(0.2);
    expect(recorded / 4000).toBeLessThan(0.3);
    // Every recorded span was exported, with the trace id the decision was made on.
    const exported = exporter.getFinishedSpans();
    expect(exported).toHaveLength(recorded);
    for (const s of exported) expect(reference.shouldSample(ROOT_CONTEXT, s.spanContext().traceId).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("follows the caller's decision: an unsampled parent gives a non-recording span in its trace, keeping its tracestate", () => {
    // Ratio 0: only the caller's sampled flag can make a span recorded here.
    const { tracing, exporter } = setup({ name: 'parentbased_traceidratio', arg: 0 });
    const traceState = new TraceState('vendor=1');
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
      traceState,
    });
    const span = tracing.tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, unsampled);
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.spanContext().spanId).not.toBe('b7ad6b7169203331');
    expect(span.spanContext().traceState?.serialize()).toBe('vendor=1');
    span.end();

    const sampled = trace.setSpanContext(ROOT_CONTEXT, { ...trace.getSpanContext(unsampled)!, traceFlags: TraceFlags.SAMPLED });
    const child = tracing.tracer.startSpan('GET /y', { kind: SpanKind.SERVER }, sampled);
    expect(child.isRecording()).toBe(true);
    child.end();
    const [exported] = exporter.getFinishedSpans() as ReadableSpan[];
    expect(exported!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(exported!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(exported!.spanContext().traceState?.serialize()).toBe('vendor=1');
  });

  it('always_off records nothing but still gives every span fresh valid ids; `root: true` ignores the active parent', () => {
    const { tracing, exporter } = setup({ name: 'always_off' });
    const a = tracing.tracer.startSpan('a', {}, ROOT_CONTEXT);
    const b = tracing.tracer.startSpan('b', { root: true }, trace.setSpan(ROOT_CONTEXT, a));
    expect(a.isRecording() || b.isRecording()).toBe(false);
    expect(b.spanContext().traceId).not.toBe(a.spanContext().traceId);
    const c = tracing.tracer.startSpan('c', {}, trace.setSpan(ROOT_CONTEXT, a));
    expect(c.spanContext().traceId).toBe(a.spanContext().traceId);
    for (const s of [a, b, c]) s.end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('gives unsampled spans ids made on first read, the same on every read and in the traceparent they propagate, unique across spans', () => {
    for (const sampler of [{ name: 'always_off' }, { name: 'parentbased_traceidratio', arg: 0 }, { name: 'parentbased_always_off' }] as const) {
      const { tracing } = setup(sampler);
      const traceIds = new Set<string>();
      const spanIds = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const root = tracing.tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
        const child = tracing.tracer.startSpan('SELECT x', {}, trace.setSpan(ROOT_CONTEXT, root));
        const sc = root.spanContext();
        expect(root.spanContext()).toBe(sc);
        expect(sc.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(sc.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(sc.traceFlags).toBe(TraceFlags.NONE);
        expect(child.spanContext().traceId).toBe(sc.traceId);
        expect(child.spanContext().spanId).not.toBe(sc.spanId);
        const headers = injectContext({}, trace.setSpan(ROOT_CONTEXT, child));
        expect(headers).toEqual({ traceparent: `00-${sc.traceId}-${child.spanContext().spanId}-00` });
        traceIds.add(sc.traceId);
        spanIds.add(sc.spanId).add(child.spanContext().spanId);
        root.end();
      }
      expect(traceIds.size).toBe(2000);
      expect(spanIds.size).toBe(4000);
    }
  });

  it('gives a turned-down root span ids when they are first read, even long after, and they are ids the ratio sampler turns down', () => {
    const { tracing } = setup({ name: 'parentbased_traceidratio', arg: 0.5 });
    const reference = new TraceIdRatioBasedSampler(0.5);
    const unread: Span[] = [];
    for (let i = 0; i < 1000; i++) {
      const span = tracing.tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      if (!span.isRecording()) unread.push(span);
      span.end();
    }
    expect(unread.length).toBeGreaterThan(400);
    // Enough other spans, read at once, that the id pool has been refilled several times over.
    for (let i = 0; i < 3000; i++) expect(tracing.tracer.startSpan('other', {}, ROOT_CONTEXT).spanContext().traceId).toHaveLength(32);
    const traceIds = new Set<string>();
    for (const span of unread) {
      const sc = span.spanContext();
      expect(trace.isSpanContextValid(sc)).toBe(true);
      expect(sc.traceFlags).toBe(TraceFlags.NONE);
      expect(reference.shouldSample(ROOT_CONTEXT, sc.traceId).decision).toBe(SamplingDecision.NOT_RECORD);
      const child = tracing.tracer.startSpan('SELECT x', {}, trace.setSpan(ROOT_CONTEXT, span));
      expect(child.spanContext().traceId).toBe(sc.traceId);
      expect(child.isRecording()).toBe(false);
      expect(span.spanContext().spanId).toBe(sc.spanId);
      traceIds.add(sc.traceId);
    }
    expect(traceIds.size).toBe(unread.length);
  });

  it('makes root trace ids whose every hex digit is uniformly spread (the fourth word is computed, not drawn)', () => {
    const { tracing } = setup({ name: 'parentbased_traceidratio', arg: 0.1 });
    // Per position of the 32 hex digits, how often each of the 16 values came up.
    const counts = Array.from({ length: 32 }, () => new Array<number>(16).fill(0));
    const n = 8000;
    for (let i = 0; i < n; i++) {
      const { traceId } = tracing.tracer.startSpan('GET /x', {}, ROOT_CONTEXT).spanContext();
      for (let d = 0; d < 32; d++) counts[d]![parseInt(traceId[d]!, 16)]!++;
    }
    // Expected 500 per cell. A chi-square over 15 degrees of freedom above 70 has p = 4.5e-9, so
    // 32 uniform positions pass all but once in seven million runs (the bound was 45, p = 7.7e-5 per
    // position: a false alarm in one run of 400, and a CI run drew 48.6). A digit the id's making
    // confines to half its values scores 8000, and one value twice as often as it should 533.
    for (const row of counts) {
      const chi = row.reduce((sum, c) => sum + (c - n / 16) ** 2 / (n / 16), 0);
      expect(chi).toBeLessThan(70);
    }
  });

  it('startActiveSpan runs the function with the span active', () => {
    const { tracing } = setup({ name: 'always_on' });
    const seen = tracing.tracer.startActiveSpan('outer', (span) => {
      const active = trace.getActiveSpan();
      span.end();
      return active === span;
    });
    expect(seen).toBe(true);
  });
});
