import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import type { Reply } from '../providers/provider-inbox';
import { inboundMessages } from './inbound.table';

/**
 * Replies phones send: kept as they came. (Issue 19 part: keywords, the opt-out they make,
 * the query and the subscription are built on this.)
 */
export class InboundService {
  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  async receive(provider: string, reply: Reply): Promise<void> {
    await this.db.insert(inboundMessages).values({ provider, fromPhone: reply.from, text: reply.text, ...(reply.at ? { receivedAt: reply.at } : {}) });
    this.log.info({ provider, phone: reply.from }, 'reply received');
  }
}
