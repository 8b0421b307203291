import { russianMobileOf } from '../common/phone';
import type { Receipt, Reply } from './provider-inbox';

/**
 * What an SMSC's deliver_sm says: a delivery receipt (esm_class bit 0x04) or a reply from a
 * phone. Receipts are read from the standard text (`id:… sub:… dlvrd:… submit date:… done
 * date:… stat:… err:… text:…`, SMPP 3.4 appendix B) and the receipted_message_id and
 * message_state TLVs, which win when present.
 */
export type Deliver =
  /** a receipt; `receipt` null when its state is not final (ENROUTE, ACCEPTD): nothing to do */
  | { kind: 'receipt'; providerMessageId: string | null; state: string; receipt: Receipt | null }
  | { kind: 'reply'; reply: Reply };

/** esm_class: the message is an SMSC delivery receipt */
const ESM_DELIVERY_RECEIPT = 0x04;

/** message_state TLV values (SMPP 3.4 §5.2.28) by the text form's stat names. */
const STATE_NAMES: Record<number, string> = { 1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD' };
const UNDELIVERED_STATES = new Set(['UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN']);

type DeliverPdu = { esm_class?: unknown; short_message?: unknown; message_payload?: unknown; source_addr?: unknown; receipted_message_id?: unknown; message_state?: unknown };

export function readDeliver(pdu: DeliverPdu): Deliver {
  const text = messageText(pdu.message_payload) ?? messageText(pdu.short_message) ?? '';
  if ((Number(pdu.esm_class ?? 0) & ESM_DELIVERY_RECEIPT) === 0) {
    return { kind: 'reply', reply: { from: normalisePhone(String(pdu.source_addr ?? '')), text, at: null } };
  }
  const fields = receiptFields(text);
  const tlvId = typeof pdu.receipted_message_id === 'string' && pdu.receipted_message_id !== '' ? pdu.receipted_message_id : null;
  const tlvState = typeof pdu.message_state === 'number' ? STATE_NAMES[pdu.message_state] : undefined;
  const providerMessageId = tlvId ?? fields.id ?? null;
  const state = (tlvState ?? fields.stat ?? 'UNKNOWN').toUpperCase();
  let receipt: Receipt | null = null;
  // The done date has no time zone (it is the SMSC's local time): the receipt counts as of when it came.
  if (providerMessageId !== null && state === 'DELIVRD') receipt = { providerMessageId, status: 'DELIVERED', error: null, at: null };
  else if (providerMessageId !== null && UNDELIVERED_STATES.has(state)) {
    receipt = { providerMessageId, status: 'UNDELIVERED', error: fields.err && !/^0+$/.test(fields.err) ? `${state} err:${fields.err}` : state, at: null };
  }
  return { kind: 'receipt', providerMessageId, state, receipt };
}

/** The standard receipt text's fields (keys lower case; `submit date` and `done date` with their space). */
export function receiptFields(text: string): { id?: string; stat?: string; err?: string } {
  const out: Record<string, string> = {};
  const re = /(id|sub|dlvrd|submit date|done date|stat|err):(\S*)/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const key = m[1].toLowerCase();
    if (!(key in out)) out[key] = m[2];
  }
  return { id: out.id || undefined, stat: out.stat || undefined, err: out.err || undefined };
}

/**
 * A short_message or message_payload as the `smpp` package decodes it: `{ message }`, a
 * string for the codings it knows (0 GSM default, 1 ASCII, 3 latin-1, 8 UCS-2 big-endian),
 * else a Buffer, read as UTF-8.
 */
function messageText(field: unknown): string | undefined {
  if (field == null) return undefined;
  const message = typeof field === 'object' && !Buffer.isBuffer(field) ? (field as { message?: unknown }).message : field;
  if (typeof message === 'string') return message;
  if (Buffer.isBuffer(message)) return message.length === 0 ? undefined : message.toString('utf8');
  return undefined;
}

/** A phone as Herald keeps it: 7XXXXXXXXXX from `+7…`, `7…` or a national `8…` of 11 digits; anything else as its digits. */
export function normalisePhone(raw: string): string {
  return russianMobileOf(raw) ?? raw.replace(/\D/g, '');
}
