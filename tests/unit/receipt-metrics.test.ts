import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics/metrics';
import { parsePrometheus, valueOf } from '../support/prometheus';

// The receipts service's observer calls Metrics.receipts (wired when the receipts part of
// issue 19 is merged); here it is called as that observer will, on a real registry, and read
// back as a scrape reads it.
function metrics() {
  const log = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
  return new Metrics(log, { queue: async () => ({ mailingsByStatus: new Map(), messagesDue: 0, running: [] }), cacheMs: 0 });
}

describe('receipt metrics', () => {
  it('should count receipts by provider and result, and delivered/undelivered ones as message outcomes', async () => {
    const m = metrics();
    m.receipts('smpp-main', 'delivered', 5);
    m.receipts('smpp-main', 'undelivered', 2);
    m.receipts('smpp-main', 'delivered', 1);
    m.receipts('http-b', 'unknown', 3);
    m.receipts('http-b', 'duplicate', 1);
    m.receipts('http-b', 'parked', 4);
    m.receipts('http-b', 'delivered', 0);
    m.messageResults([{ status: 'DELIVERED', attempted: true }, { status: 'SENT', attempted: true }]);
    const samples = parsePrometheus(await m.registry.metrics());
    expect(valueOf(samples, 'herald_receipts_total', { provider: 'smpp-main', result: 'delivered' })).toBe(6);
    expect(valueOf(samples, 'herald_receipts_total', { provider: 'smpp-main', result: 'undelivered' })).toBe(2);
    expect(valueOf(samples, 'herald_receipts_total', { provider: 'http-b', result: 'unknown' })).toBe(3);
    expect(valueOf(samples, 'herald_receipts_total', { provider: 'http-b', result: 'duplicate' })).toBe(1);
    expect(valueOf(samples, 'herald_receipts_total', { provider: 'http-b', result: 'parked' })).toBe(4);
    // Every result of a provider that sent one is exposed, zeros included.
    expect(samples.filter((s) => s.name === 'herald_receipts_total' && s.labels.provider === 'http-b').map((s) => s.labels.result).sort()).toEqual(
      ['delivered', 'duplicate', 'parked', 'undelivered', 'unknown'],
    );
    expect(valueOf(samples, 'herald_messages_total', { outcome: 'delivered' })).toBe(7);
    expect(valueOf(samples, 'herald_messages_total', { outcome: 'undelivered' })).toBe(2);
    expect(valueOf(samples, 'herald_messages_total', { outcome: 'sent' })).toBe(1);
  });
});
