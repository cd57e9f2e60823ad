import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { hotHistogramChild } from '../src/metrics.js';

const BOUNDS = [0.001, 0.01, 0.1];

function histogram() {
  const registry = new Registry();
  const h = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['method', 'route'] as const, buckets: BOUNDS, registers: [registry] });
  return { registry, h };
}

async function values(h: Histogram<'method' | 'route'>, method: string) {
  const out = new Map<string, number>();
  for (const v of (await h.get()).values) {
    const labels = v.labels as Record<string, string | number | undefined>;
    if (labels.method === method) out.set(`${(v.metricName ?? '').replace('h_seconds', '')}${labels.le ?? ''}`, v.value);
  }
  return out;
}

describe('hotHistogramChild', () => {
  it('gives the same series prom-client observe() gives for the same observations', async () => {
    const samples = [0.0001, 0.001, 0.0011, 0.05, 0.1, 0.2, 3, 0.00099];
    const a = histogram();
    for (const s of samples) a.h.observe({ method: 'GET', route: '/r' }, s);
    const b = histogram();
    const observe = hotHistogramChild(b.h, BOUNDS, { method: 'GET', route: '/r' });
    for (const s of samples) observe(s);
    expect(await values(b.h, 'GET')).toEqual(await values(a.h, 'GET'));
    expect(await b.registry.metrics()).toBe(await a.registry.metrics());
  });

  it('adds to what the router observed for the same labels and keeps counting across scrapes and a reset', async () => {
    const { h, registry } = histogram();
    const observe = hotHistogramChild(h, BOUNDS, { method: 'GET', route: '/r' });
    h.observe({ method: 'GET', route: '/r' }, 0.005);
    observe(0.0005);
    observe(0.5);
    let v = await values(h, 'GET');
    expect([v.get('_count'), v.get('_bucket0.001'), v.get('_bucket0.01'), v.get('_bucket+Inf')]).toEqual([3, 1, 2, 3]);
    observe(0.05);
    expect(await registry.metrics()).toContain('h_seconds_count{method="GET",route="/r"} 4');
    h.reset();
    observe(0.05);
    v = await values(h, 'GET');
    expect([v.get('_count'), v.get('_bucket0.1')]).toEqual([1, 1]);
  });

  it('falls back to observe() when prom-client keeps its series in another shape', async () => {
    const { h } = histogram();
    (h as unknown as { hashMap: unknown }).hashMap = new Map();
    const calls: number[] = [];
    h.observe = ((_labels: unknown, value: number) => calls.push(value)) as never;
    h.zero = (() => {}) as never;
    const observe = hotHistogramChild(h, BOUNDS, { method: 'GET', route: '/r' });
    observe(0.002);
    expect(calls).toEqual([0.002]);
  });
});
