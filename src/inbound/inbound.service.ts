import { toPage, type Page, type PageRequest } from '../common/page';
import { findClientByPhone } from '../clients/client.store';
import { validatePhoneSearch } from '../clients/client.validation';
import { deleteOptOut, upsertOptOut } from '../clients/opt-out.store';
import type { Db } from '../db/connection';
import { notifyClients, notifyInbound } from '../events/event.channel';
import type { Logger } from '../logger';
import type { Reply } from '../providers/provider-inbox';
import { keywordOf, normalizePhone, type KeywordAction, type Keywords } from './inbound.keywords';
import * as store from './inbound.store';
import type { InboundMessageRow } from './inbound.table';

/** The reason an opt-out by reply is recorded with (optOuts shows it). */
export const STOP_BY_SMS = 'STOP by SMS';

/**
 * Replies phones send: each kept, and one that is exactly an opt-out keyword opts its phone
 * out (an opt-in keyword lifts that), by the opt-out rules of src/clients: a mailing
 * starting later leaves the phone out, a running one skips its message at its turn. The
 * reply's row, the opt-out and their events commit together or not at all.
 */
export class InboundService {
  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly keywords: Keywords,
  ) {}

  /** The port's call (ProviderInbox.reply): one reply of `provider`. */
  async receive(provider: string, reply: Reply): Promise<void> {
    await this.receiveAll(provider, [reply]);
  }

  /** Replies of `provider` in one transaction, in order; what each did (null: kept only). */
  async receiveAll(provider: string, replies: readonly Reply[]): Promise<(KeywordAction | null)[]> {
    const rows = await this.db.transaction(async (tx) => {
      const kept: InboundMessageRow[] = [];
      let directoryChanged = false;
      for (const reply of replies) {
        const phone = normalizePhone(reply.from);
        const client = phone ? await findClientByPhone(tx, phone) : undefined;
        const asked = phone ? keywordOf(reply.text, this.keywords) : null;
        let action: KeywordAction | null = null;
        if (phone && asked === 'OPTED_OUT') {
          await upsertOptOut(tx, phone, STOP_BY_SMS);
          action = 'OPTED_OUT';
        } else if (phone && asked === 'OPTED_IN' && (await deleteOptOut(tx, phone))) {
          // START from a phone that had no opt-out did nothing: kept with no action.
          action = 'OPTED_IN';
        }
        directoryChanged ||= action !== null;
        const row = await store.insertInbound(tx, {
          provider,
          fromPhone: phone ?? reply.from,
          text: reply.text,
          receivedAt: reply.at,
          clientId: client?.id ?? null,
          action,
        });
        await tx.execute(notifyInbound(row.id));
        kept.push(row);
      }
      if (directoryChanged) await tx.execute(notifyClients());
      return kept;
    });
    // The phone is a client's contact, not an id: logged by the row's and the client's ids.
    for (const row of rows) {
      this.log.info({ provider, inboundId: row.id, clientId: row.clientId, action: row.action }, row.action === 'OPTED_OUT' ? 'reply opted its phone out' : row.action === 'OPTED_IN' ? 'reply opted its phone back in' : 'reply received');
    }
    return rows.map((r) => r.action as KeywordAction | null);
  }
}

export async function listInboundMessages(db: Db, phone: string | null | undefined, req: PageRequest): Promise<Page<InboundMessageRow>> {
  const phoneContains = phone == null ? null : validatePhoneSearch(phone);
  return toPage(await store.listInbound(db, phoneContains, req), req, () => store.countInbound(db, phoneContains));
}

/** A reply as the route takes it, before it is kept: the reason it is refused, or null. */
export const MAX_REPLY_TEXT = 1600;
export function replyProblem(from: unknown, text: unknown, at: unknown): string | null {
  if (typeof from !== 'string' || from.trim() === '') return '"from" is required: the phone, e.g. 79161234567';
  if (from.length > 32) return '"from" must be at most 32 characters';
  if (typeof text !== 'string') return '"text" is required (a string)';
  if (text.length > MAX_REPLY_TEXT) return `"text" must be at most ${MAX_REPLY_TEXT} characters`;
  if (at !== undefined && at !== null && (typeof at !== 'string' || Number.isNaN(Date.parse(at)))) return '"at" must be an ISO time such as 2026-12-01T10:00:00Z';
  return null;
}

