import { describe, expect, it } from 'vitest';
import { normalisePhone, readDeliver, receiptFields } from '../../src/providers/smpp.receipt';

// The reading of an SMSC's deliver_sm: pure functions of the PDU's fields as the `smpp` package decodes them.

const text = (id: string, stat: string, err = '000') => `id:${id} sub:001 dlvrd:001 submit date:2612021200 done date:2612021201 stat:${stat} err:${err} text:Hello`;

describe('SMPP receipts: readDeliver', () => {
  it('should map every final stat, and leave ENROUTE and ACCEPTD without a receipt', () => {
    const of = (stat: string, err?: string) => readDeliver({ esm_class: 0x04, short_message: { message: text('abc', stat, err) } });
    expect(of('DELIVRD')).toMatchObject({ kind: 'receipt', receipt: { providerMessageId: 'abc', status: 'DELIVERED', error: null } });
    expect(of('UNDELIV', '034')).toMatchObject({ receipt: { status: 'UNDELIVERED', error: 'UNDELIV err:034' } });
    for (const stat of ['EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN']) expect(of(stat)).toMatchObject({ receipt: { status: 'UNDELIVERED', error: stat } });
    expect(of('ENROUTE')).toMatchObject({ kind: 'receipt', state: 'ENROUTE', receipt: null });
    expect(of('ACCEPTD')).toMatchObject({ kind: 'receipt', state: 'ACCEPTD', receipt: null });
  });

  it('should let the receipted_message_id and message_state TLVs win over the text', () => {
    const d = readDeliver({ esm_class: 0x04, short_message: { message: text('from-text', 'DELIVRD', '007') }, receipted_message_id: 'from-tlv', message_state: 3 });
    expect(d).toMatchObject({ receipt: { providerMessageId: 'from-tlv', status: 'UNDELIVERED', error: 'EXPIRED err:007' } });
    // A receipt in message_payload only, with the TLVs.
    expect(readDeliver({ esm_class: 0x04, message_payload: { message: '' }, receipted_message_id: 'x1', message_state: 2 })).toMatchObject({
      receipt: { providerMessageId: 'x1', status: 'DELIVERED' },
    });
  });

  it('should read the text form in any case, and a receipt without an id as nothing to apply', () => {
    expect(receiptFields('ID:A1 Stat:delivrd Err:000')).toEqual({ id: 'A1', stat: 'delivrd', err: '000' });
    expect(readDeliver({ esm_class: 0x04, short_message: { message: 'id:a1 stat:delivrd' } })).toMatchObject({ receipt: { providerMessageId: 'a1', status: 'DELIVERED' } });
    expect(readDeliver({ esm_class: 0x04, short_message: { message: 'stat:DELIVRD' } })).toMatchObject({ providerMessageId: null, receipt: null });
  });

  it('should read anything else as a reply, its phone as 7XXXXXXXXXX', () => {
    expect(readDeliver({ esm_class: 0, source_addr: '+7 916 123-45-67', short_message: { message: 'STOP' } })).toEqual({
      kind: 'reply',
      reply: { from: '79161234567', text: 'STOP', at: null },
    });
    expect(readDeliver({ esm_class: 0, source_addr: '89161234567', short_message: { message: Buffer.from('привет') } })).toMatchObject({ reply: { from: '79161234567', text: 'привет' } });
    expect(normalisePhone('79161234567')).toBe('79161234567');
    expect(normalisePhone('8916')).toBe('8916');
  });
});
