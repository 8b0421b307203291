import { describe, expect, it } from 'vitest';
import type { MailingStatus } from '../../src/mailings/mailing.table';
import { actionsFor, timersNeeded, type MailingAction } from '../../src/mailings/mailing.transitions';

const NOW = Date.UTC(2030, 0, 1, 12);
const HOUR = 3_600_000;

describe('what an operator may do with a mailing (actionsFor)', () => {
  // status, whether its end has passed, its FAILED messages, what an admin may do
  const cases: [MailingStatus, boolean, number, MailingAction[]][] = [
    ['SCHEDULED', false, 0, ['CANCEL', 'EDIT', 'DELETE', 'DUPLICATE']],
    ['RUNNING', false, 0, ['PAUSE', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE']],
    ['RUNNING', false, 3, ['PAUSE', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE', 'RETRY_FAILED']],
    ['RUNNING', true, 3, ['PAUSE', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE']],
    ['PAUSED', false, 3, ['RESUME', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE']],
    ['COMPLETED', false, 0, ['DELETE', 'DUPLICATE']],
    ['COMPLETED', false, 2, ['DELETE', 'DUPLICATE', 'RETRY_FAILED']],
    ['COMPLETED', true, 2, ['DELETE', 'DUPLICATE']],
    ['CANCELLED', false, 2, ['DELETE', 'DUPLICATE']],
  ];

  for (const [status, ended, failed, expected] of cases) {
    const mailing = { status, startAt: NOW - 2 * HOUR, endAt: ended ? NOW - HOUR : NOW + HOUR };
    it(`should let an admin ${expected.join(', ')} a ${status} mailing${ended ? ' whose end has passed' : ''} with ${failed} failed`, () => {
      expect(actionsFor(mailing, 'admin', NOW, failed)).toEqual(expected);
    });
    it(`should let a viewer do nothing with a ${status} mailing${ended ? ' whose end has passed' : ''} with ${failed} failed`, () => {
      expect(actionsFor(mailing, 'viewer', NOW, failed)).toEqual([]);
    });
  }
});

describe('the timers a mailing needs (timersNeeded)', () => {
  const startAt = new Date(NOW + HOUR);
  const endAt = new Date(NOW + 2 * HOUR);
  const cases: [MailingStatus, { kind: 'start' | 'end'; at: Date }[]][] = [
    ['SCHEDULED', [{ kind: 'start', at: startAt }, { kind: 'end', at: endAt }]],
    ['RUNNING', [{ kind: 'end', at: endAt }]],
    ['PAUSED', [{ kind: 'end', at: endAt }]],
    ['COMPLETED', []],
    ['CANCELLED', []],
  ];
  for (const [status, expected] of cases) {
    it(`should give a ${status} mailing ${expected.length === 0 ? 'no timer' : expected.map((t) => `a ${t.kind} timer`).join(' and ')}`, () => {
      expect(timersNeeded({ status, startAt, endAt })).toEqual(expected);
    });
  }
});
