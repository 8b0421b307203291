import { findClientByPhone } from '../clients/client.store';
import { validatePhone } from '../clients/client.validation';
import { isOptedOut } from '../clients/opt-out.store';
import type { Db } from '../db/connection';
import type { Outbox } from '../dispatch/dispatch.ports';
import type { Logger } from '../logger';
import { render } from '../mailings/mailing.template';
import { validateTemplate } from '../mailings/mailing.validation';
import { nextTestSendId, recordTestSend } from './test-send.store';

/** What a test send goes through: the providers the dispatcher uses (routed alike), and the timeout. */
export type TestSender = { outbox: Outbox; requestTimeoutMs: number };

export type TestSendValue = {
  id: number;
  status: 'SENT' | 'FAILED' | 'SKIPPED';
  /** the provider's answer as Herald classes it: sent, rejected, unauthorized, throttled, retryable; deferred (no provider could take it now); or opted-out */
  outcome: string;
  error: string | null;
  text: string;
};

/**
 * Sends one text to one phone now, through the same gateway client as mailings, to try it:
 * personalised as for the client with that phone (defaults otherwise), refused by the phone's
 * opt-out, tried once (no retries), and recorded in test_sends, apart from every mailing.
 */
export async function testSend(db: Db, log: Logger, sender: TestSender, maxSegments: number, textInput: string, phoneInput: string): Promise<TestSendValue> {
  const { template } = validateTemplate(textInput, maxSegments);
  const phone = validatePhone(phoneInput.trim());
  const client = await findClientByPhone(db, phone);
  const text = render(template, { name: client?.name ?? null, attributes: client?.attributes ?? {} });
  const messageId = await nextTestSendId(db);
  let result: TestSendValue;
  if (await isOptedOut(db, phone)) {
    result = { id: messageId, status: 'SKIPPED', outcome: 'opted-out', error: 'opted out', text };
  } else {
    const started = performance.now();
    const message = { id: messageId, phone, text, operatorCode: client?.operatorCode ?? null, provider: null };
    const { outcome, via } = await sender.outbox.send(message, Date.now() + sender.requestTimeoutMs).delivery;
    const error = outcome.kind === 'sent' ? null : outcome.error;
    result = { id: messageId, status: outcome.kind === 'sent' ? 'SENT' : 'FAILED', outcome: outcome.kind, error, text };
    log.info({ messageId, clientId: client?.id, provider: via ?? undefined, outcome: outcome.kind, error, durationMs: Math.round(performance.now() - started) }, 'test message sent');
  }
  await recordTestSend(db, { id: messageId, phone, text, status: result.status, error: result.error });
  return result;
}
