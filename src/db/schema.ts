// Every table Herald owns, gathered for drizzle-kit and for the typed query builder.
// Each table is defined beside the capability that owns it.
export * from '../clients/client.table';
export * from '../mailings/mailing.table';
export * from '../messages/message.table';
export * from '../mailings/mailing-stats.table';
export * from '../mailings/audience.table';
export * from '../dispatch/lease.table';
export * from '../clients/opt-out.table';
export * from '../mailings/frequency-ledger.table';
export * from '../testsend/test-send.table';
export * from '../ratelimit/cost-window.table';
export * from '../providers/provider.table';
export * from '../receipts/receipt.table';
export * from '../inbound/inbound.table';
export * from '../webhooks/webhook.table';
