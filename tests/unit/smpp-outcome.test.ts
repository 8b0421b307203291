import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { classifySubmitStatus, kindOfStatus, statusName } from '../../src/providers/smpp.outcome';

const e = smpp.errors;

describe('SMPP command status → outcome', () => {
  it('should take status 0 as sent', () => {
    expect(classifySubmitStatus(0)).toEqual({ kind: 'sent' });
  });

  it('should take throttling and a full queue as throttled, with no delay of its own', () => {
    expect(classifySubmitStatus(0x58)).toEqual({ kind: 'throttled', error: 'ESME_RTHROTTLED (0x58)', retryAfterMs: null });
    expect(classifySubmitStatus(0x14)).toEqual({ kind: 'throttled', error: 'ESME_RMSGQFUL (0x14)', retryAfterMs: null });
  });

  it('should take bind and account problems as unauthorized', () => {
    for (const code of [0x0d, 0x0e, 0x0f, e.ESME_RINVSYSTYP, e.ESME_RSERTYPUNAUTH, e.ESME_RPROHIBITED]) expect(kindOfStatus(code)).toBe('unauthorized');
    expect(classifySubmitStatus(0x0e)).toEqual({ kind: 'unauthorized', error: 'ESME_RINVPASWD (0x0e)' });
  });

  it('should take what is wrong with the message itself as rejected', () => {
    for (const code of [0x01, 0x0a, 0x0b, 0x43, 0x104, e.ESME_RINVDSTTON, e.ESME_RINVDSTNPI, e.ESME_RINVSRCTON, e.ESME_RINVTLVVAL, e.ESME_RINVEXPIRY]) {
      expect(kindOfStatus(code)).toBe('rejected');
    }
    expect(classifySubmitStatus(0x0b)).toEqual({ kind: 'rejected', error: 'ESME_RINVDSTADR (0x0b)' });
  });

  it('should take system errors, submit failures and unknown codes as retryable', () => {
    for (const code of [0x08, 0x45, e.ESME_RUNKNOWNERR, e.ESME_RINVBNDSTS, 0x400, 0x1234]) expect(kindOfStatus(code)).toBe('retryable');
    expect(classifySubmitStatus(0x45)).toEqual({ kind: 'retryable', error: 'ESME_RSUBMITFAIL (0x45)' });
    expect(classifySubmitStatus(0x401)).toEqual({ kind: 'retryable', error: '0x401' });
  });

  it('should name statuses as the specification does', () => {
    expect(statusName(0x58)).toBe('ESME_RTHROTTLED (0x58)');
    expect(statusName(0x104)).toBe('ESME_RINVDCS (0x104)');
    expect(statusName(0xfff)).toBe('0xfff');
  });
});
