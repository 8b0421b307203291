import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logRepeated, serializeError } from '../../src/logger';
import { sleep } from '../support/wait';

function capture(repeatIntervalMs: number) {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger('info', sink, { repeatIntervalMs }), lines };
}

describe('repeated warnings', () => {
  it('should write the first at once and one line per interval with the count left out', async () => {
    const { log, lines } = capture(200);
    const child = log.child({ mailingId: 7 });
    for (let i = 0; i < 500; i++) logRepeated(child, 'warn', { i }, 'slow subscriber: dropping its oldest batches');
    logRepeated(log, 'error', {}, 'a dispatch claim failed'); // another kind is not held back
    await sleep(50);
    expect(lines.map((l) => [l.msg, l.i, l.suppressed])).toEqual([
      ['slow subscriber: dropping its oldest batches', 0, undefined],
      ['a dispatch claim failed', undefined, undefined],
    ]);
    await sleep(250);
    const summary = lines.filter((l) => l.msg === 'slow subscriber: dropping its oldest batches');
    expect(summary).toHaveLength(2);
    expect(summary[1]).toMatchObject({ suppressed: 499, i: 499, mailingId: 7, intervalMs: 200 });
    // Quiet for an interval: the next one is written at once again.
    await sleep(250);
    logRepeated(child, 'warn', { i: 1000 }, 'slow subscriber: dropping its oldest batches');
    await sleep(20);
    expect(lines.filter((l) => l.msg === 'slow subscriber: dropping its oldest batches').at(-1)).toMatchObject({ i: 1000 });
    expect(lines.filter((l) => l.msg === 'slow subscriber: dropping its oldest batches').at(-1)?.suppressed).toBeUndefined();
  });
});

describe('errors in log lines', () => {
  it('should keep the cause and code of a failed query, not its SQL, parameters, detail or phones', () => {
    const pg = Object.assign(new Error('duplicate key value violates unique constraint "clients_phone_key"'), {
      code: '23505',
      constraint_name: 'clients_phone_key',
      detail: 'Key (phone)=(79161234567) already exists.',
      query: 'insert into clients ...',
      parameters: ['79161234567'],
    });
    const drizzle = Object.assign(new Error('Failed query: insert into clients (phone) values ($1)\nparams: 79161234567'), { query: 'insert ...', params: ['79161234567'], cause: pg });
    const out = serializeError(drizzle);
    expect(out.message).toBe('Failed query (its SQL and parameters are not logged)');
    expect(out.cause).toMatchObject({ message: pg.message, code: '23505', constraint_name: 'clients_phone_key' });
    expect(JSON.stringify(out)).not.toMatch(/79161234567|"params"|"parameters"|"detail"|"query"|insert into/);
    expect(serializeError(new Error('no client 79161234567 here')).message).toBe('no client [number] here');
  });
});
