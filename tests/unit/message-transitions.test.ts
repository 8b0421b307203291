import { describe, expect, it } from 'vitest';
import { MESSAGE_STATUSES } from '../../src/messages/message.table';
import { FINAL_MESSAGE_STATUSES, MESSAGE_TRANSITIONS, mayBecome, settleForMailing } from '../../src/messages/message.transitions';

describe('a message’s transitions', () => {
  it('should let a result change only a PENDING message, except that SENT also overwrites EXPIRED and CANCELLED, and a receipt moves only SENT', () => {
    const receipt = (s: string) => s === 'DELIVERED' || s === 'UNDELIVERED';
    for (const from of MESSAGE_STATUSES) {
      for (const to of MESSAGE_STATUSES) {
        const expected = receipt(to)
          ? from === 'SENT'
          : from === 'PENDING' || (to === 'SENT' && (from === 'EXPIRED' || from === 'CANCELLED'));
        expect(mayBecome(from, to), `${from} → ${to}`).toBe(expected);
      }
    }
  });

  it('should queue again only FAILED messages, and leave every final status final for its own mailing', () => {
    expect(MESSAGE_TRANSITIONS.requeue).toEqual({ from: ['FAILED'], to: 'PENDING' });
    expect(FINAL_MESSAGE_STATUSES).toEqual(['SENT', 'FAILED', 'EXPIRED', 'CANCELLED', 'SKIPPED', 'DELIVERED', 'UNDELIVERED']);
    expect(MESSAGE_TRANSITIONS.deliver).toEqual({ from: ['SENT'], to: 'DELIVERED' });
    expect(MESSAGE_TRANSITIONS.undeliver).toEqual({ from: ['SENT'], to: 'UNDELIVERED' });
    for (const [event, rule] of Object.entries(MESSAGE_TRANSITIONS)) {
      if (!['send', 'requeue', 'deliver', 'undeliver'].includes(event)) expect(rule.from, event).toEqual(['PENDING']);
    }
  });

  it('should settle a retry by the status its mailing has moved to', () => {
    const retry = { status: 'PENDING' as const, error: '503' };
    expect(settleForMailing(retry, 'RUNNING')).toEqual(retry);
    expect(settleForMailing(retry, 'PAUSED')).toEqual(retry);
    expect(settleForMailing(retry, 'CANCELLED')).toEqual({ status: 'CANCELLED', error: '503' });
    expect(settleForMailing(retry, 'COMPLETED')).toEqual({ status: 'EXPIRED', error: '503' });
    expect(settleForMailing({ status: 'SENT' as const, error: null }, 'CANCELLED')).toEqual({ status: 'SENT', error: null });
  });
});
