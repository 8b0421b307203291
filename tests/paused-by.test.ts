import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertClients, untilMailingStatus } from './support/fixtures';
import { startTestHerald, type TestHerald } from './support/herald';
import { subscribe } from './support/live';

/**
 * Issue 20, item 4: a mailing paused by an operator keeps who paused it and when
 * (Mailing.pausedBy, Mailing.pausedAt), and its progress has no rate, no ETA and no risk.
 */

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
  // One audience a mailing: a client's frequency cap would skip a second mailing's messages.
  await insertClients(herald, 20, { operatorCode: '978' });
  await insertClients(herald, 20, { operatorCode: '979' });
});
afterAll(() => herald?.stop());

const HOUR = 3_600_000;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const FIELDS = 'status pausedReason pausedBy pausedAt';

/** A running mailing whose messages wait for a send window that opens later: it stays RUNNING with pending messages. */
async function runningMailing(operatorCode: string): Promise<string> {
  const minute = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
  const hhmm = (m: number) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const input = { text: 'Hello', startAt: inMs(-1000), endAt: inMs(24 * HOUR), filter: { operatorCodes: [operatorCode] }, sendWindow: { from: hhmm((minute + 120) % 1440), to: hhmm((minute + 180) % 1440) } };
  const id = (await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, { input })).createMailing.id;
  await untilMailingStatus(herald, id, 'RUNNING', 5_000);
  return id;
}

describe('Mailing.pausedBy and pausedAt', () => {
  it('should say which principal paused it and when, and clear both on resume', async () => {
    const id = await runningMailing('978');
    const before = (await herald.ok(`query($id: ID!) { mailing(id: $id) { ${FIELDS} } }`, { id })).mailing;
    expect(before).toEqual({ status: 'RUNNING', pausedReason: null, pausedBy: null, pausedAt: null });

    const asked = Date.now();
    const paused = (await herald.ok(`mutation($id: ID!) { pauseMailing(id: $id) { ${FIELDS} } }`, { id })).pauseMailing;
    // The admin token of the tests is the first of API_TOKENS.
    expect(paused).toMatchObject({ status: 'PAUSED', pausedReason: null, pausedBy: 'api-token:1' });
    expect(Math.abs(Date.parse(paused.pausedAt) - asked)).toBeLessThan(5_000);
    // Kept on the mailing: a later read says the same.
    expect((await herald.ok(`query($id: ID!) { mailing(id: $id) { ${FIELDS} } }`, { id })).mailing).toEqual(paused);
    expect(herald.logs.some((l) => l.msg === 'mailing paused' && String(l.mailingId) === id && l.pausedBy === 'api-token:1')).toBe(true);

    const resumed = (await herald.ok(`mutation($id: ID!) { resumeMailing(id: $id) { ${FIELDS} } }`, { id })).resumeMailing;
    expect(resumed).toEqual({ status: 'RUNNING', pausedReason: null, pausedBy: null, pausedAt: null });
  });

  it('should give a paused mailing no rate, no ETA and no risk, however long it has stood still', async () => {
    const id = await runningMailing('979');
    type Progress = { mailingProgress: { status: string; ratePerSecond: number; etaSeconds: number | null; atRisk: boolean; mailing: { stats: { pending: number } } } };
    const live = subscribe<Progress>(herald.url, `subscription($id: ID!) { mailingProgress(mailingId: $id) { status ratePerSecond etaSeconds atRisk mailing { stats { pending } } } }`, { id });
    try {
      // Past a whole rate window (5 s) without a result: a running mailing standing still is at risk.
      await new Promise((r) => setTimeout(r, 5_500));
      await herald.ok(`mutation($id: ID!) { pauseMailing(id: $id) { id } }`, { id });
      const deadline = Date.now() + 5_000;
      while (!live.events.some((e) => e.data.mailingProgress.status === 'PAUSED') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const paused = live.events.find((e) => e.data.mailingProgress.status === 'PAUSED')?.data.mailingProgress;
      expect(paused?.mailing.stats.pending).toBeGreaterThan(0);
      expect(paused).toMatchObject({ ratePerSecond: 0, etaSeconds: null, atRisk: false });
    } finally {
      await live.stop();
    }
  });
});
