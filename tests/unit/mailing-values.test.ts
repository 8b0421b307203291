import { describe, expect, it } from 'vitest';
import type { MailingRow } from '../../src/mailings/mailing.table';
import { columnsOf, formatSendWindow, mailingValuesOf, sameFilter } from '../../src/mailings/mailing.values';

const row: MailingRow = {
  id: 1,
  name: 'Spring',
  text: 'Hello',
  startAt: new Date('2030-01-01T00:00:00Z'),
  endAt: new Date('2030-01-02T00:00:00Z'),
  filterOperatorCodes: ['900'],
  filterTags: ['vip', 'new'],
  filterTagMatch: 'ALL',
  status: 'SCHEDULED',
  sendWindowFrom: 1320,
  sendWindowTo: 360,
  frequencyCapCount: 2,
  frequencyCapWindowS: 86400,
  maxFailureRate: 0.5,
  pausedReason: null,
  pausedBy: null,
  pausedAt: null,
  startedAt: null,
  finishedAt: null,
  messagesPrunedAt: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

describe('a mailing\'s values', () => {
  it('reads each column group of a row as one value', () => {
    expect(mailingValuesOf(row)).toEqual({
      name: 'Spring',
      text: 'Hello',
      startAt: row.startAt,
      endAt: row.endAt,
      filter: { operatorCodes: ['900'], tags: ['vip', 'new'], tagMatch: 'ALL' },
      sendWindow: { fromMinute: 1320, toMinute: 360 },
      frequencyCap: { count: 2, windowS: 86400 },
      maxFailureRate: 0.5,
    });
  });

  it('reads a mailing without a window or a cap of its own as null', () => {
    const values = mailingValuesOf({ ...row, sendWindowFrom: null, sendWindowTo: null, frequencyCapCount: null, frequencyCapWindowS: null });
    expect(values.sendWindow).toBeNull();
    expect(values.frequencyCap).toBeNull();
  });

  it('writes back the columns it read', () => {
    const { id, status, pausedReason, pausedBy, pausedAt, startedAt, finishedAt, messagesPrunedAt, createdAt, updatedAt, ...columns } = row;
    expect(columnsOf(mailingValuesOf(row))).toEqual(columns);
  });

  it('writes nothing for an absent value and clears a group for null', () => {
    expect(columnsOf({})).toEqual({});
    expect(columnsOf({ sendWindow: null, frequencyCap: null })).toEqual({ sendWindowFrom: null, sendWindowTo: null, frequencyCapCount: null, frequencyCapWindowS: null });
  });

  it('compares filters by their items, in any order', () => {
    const filter = { operatorCodes: ['900', '901'], tags: ['a'], tagMatch: 'ANY' as const };
    expect(sameFilter(filter, { ...filter, operatorCodes: ['901', '900'] })).toBe(true);
    expect(sameFilter(filter, { ...filter, tagMatch: 'ALL' })).toBe(false);
    expect(sameFilter(filter, { ...filter, tags: [] })).toBe(false);
  });

  it('shows a window as HH:MM', () => {
    expect(formatSendWindow({ fromMinute: 1320, toMinute: 360 })).toEqual({ from: '22:00', to: '06:00' });
  });
});
