import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { sourceAddressOf } from '../../src/providers/smpp.client';
import { concatenationHeader, encodeForSmpp } from '../../src/providers/smpp.parts';
import { SubmitSm, submitSourceBytes } from '../../src/providers/smpp.submit';

const bytesOf = (pdu: { toBuffer(): Buffer }) => pdu.toBuffer().toString('hex');

describe('submit_sm as Herald serialises it', () => {
  it('should be, byte for byte, the PDU the smpp package makes of the same fields', () => {
    const cases = [
      { source: 'Herald', destination: '79161234567', text: 'Bench message', registeredDelivery: 1 },
      { source: '79001234567', destination: '79161234567', text: 'Привет, мир', registeredDelivery: 0 },
      { source: '4444', destination: '79990000001', text: 'Ж'.repeat(100), registeredDelivery: 1 },
      { source: 'Herald', destination: '79161234567', text: 'A long GSM text with {braces} and €uro '.repeat(7), registeredDelivery: 2 },
    ];
    let seen = 0;
    for (const c of cases) {
      const { ton, npi } = sourceAddressOf(c.source);
      const source = submitSourceBytes({ serviceType: '', ton, npi, address: c.source });
      const { dataCoding, parts } = encodeForSmpp(c.text);
      parts.forEach((part, i) => {
        const udh = parts.length > 1 ? concatenationHeader(42, parts.length, i + 1) : null;
        const ours = new SubmitSm({
          source,
          destination: c.destination,
          esmClass: udh ? 0x40 : 0,
          registeredDelivery: c.registeredDelivery,
          dataCoding,
          shortMessage: udh ? Buffer.concat([udh, part]) : part,
        });
        const theirs = new smpp.PDU('submit_sm', {
          source_addr_ton: ton,
          source_addr_npi: npi,
          source_addr: c.source,
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: c.destination,
          registered_delivery: c.registeredDelivery,
          data_coding: dataCoding,
          short_message: udh ? { udh, message: part } : part,
          ...(udh ? {} : { esm_class: 0 }),
        });
        ours.sequence_number = theirs.sequence_number = 1_000 + seen++;
        expect(bytesOf(ours)).toBe(bytesOf(theirs as unknown as { toBuffer(): Buffer }));
        // and the package reads it back as the fields it was made of
        const read = new smpp.PDU(ours.toBuffer() as unknown as string);
        expect(read).toMatchObject({ command: 'submit_sm', sequence_number: ours.sequence_number, destination_addr: c.destination, source_addr: c.source, registered_delivery: c.registeredDelivery, data_coding: dataCoding });
      });
    }
    expect(seen).toBeGreaterThan(cases.length);
  });
});
