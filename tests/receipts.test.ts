import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProvidersFile } from '../src/providers/providers.file';
import { CREATE_MAILING, inMs, insertClients, untilMailingStatus } from './support/fixtures';
import { startTestHerald, type TestHerald } from './support/herald';
import { sleep, waitFor } from './support/wait';

// Issue 19's receipts, against one long-lived Herald with two providers on real sockets: an
// SMSC (the `smpp` package's server, written here: it sends deliver_sm as a test says) and
// an HTTP gateway (a plain node server that can post a receipt before it answers the send).
// Clients of operator 916 go to the SMSC, everyone else to the gateway.

const SMSC_PASSWORD = 'rcpt-pw';
const WEB_TOKEN = 'web-gateway-token-0123456789';
const WEB_RECEIPT_TOKEN = 'web-receipt-token-0123456789';
const PARK_MS = 1_500;

let herald: TestHerald;

// ---- the SMSC -------------------------------------------------------------------------------

type Submitted = { messageId: string; destination: string };
const smsc = {
  server: null as smpp.Server | null,
  session: null as smpp.Session | null,
  submits: [] as Submitted[],
  next: 1,
  /** send a DELIVRD receipt right after each submit_sm_resp (before Herald can have committed the SENT) */
  receiptAtOnce: false,
  /** the deliver_sm_resp statuses Herald answered, in order */
  answers: [] as number[],
};

function deliver(fields: Record<string, unknown>): Promise<number> {
  return new Promise((resolve) => {
    const pdu = new smpp.PDU('deliver_sm', { source_addr: '79160000000', destination_addr: 'Herald', ...fields });
    smsc.session!.send(pdu, (resp) => {
      smsc.answers.push(resp.command_status);
      resolve(resp.command_status);
    });
  });
}

const receiptText = (id: string, stat: string, err = '000') =>
  `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2612021200 done date:2612021201 stat:${stat} err:${err} text:Hello from Herald`;

function startSmsc(): Promise<number> {
  smsc.server = smpp.createServer({}, (session) => {
    session.on('error', () => {});
    session.on('bind_transceiver', (pdu: smpp.PDU) => {
      smsc.session = session;
      session.send(pdu.response());
    });
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('submit_sm', (pdu: smpp.PDU) => {
      const messageId = `R${smsc.next++}`;
      smsc.submits.push({ messageId, destination: String(pdu.destination_addr) });
      session.send(pdu.response({ message_id: messageId }));
      if (smsc.receiptAtOnce) void deliver({ esm_class: 0x04, short_message: receiptText(messageId, 'DELIVRD') });
    });
  });
  return new Promise((resolve) => smsc.server!.listen(0, '127.0.0.1', () => resolve((smsc.server!.address() as AddressInfo).port)));
}

// ---- the HTTP gateway -----------------------------------------------------------------------

const web = {
  server: null as Server | null,
  /** post a delivered receipt for each message to Herald before answering its send */
  receiptFirst: false,
  /** the answers Herald gave those receipts */
  receiptAnswers: [] as number[],
  sent: [] as number[],
};

function startWeb(): Promise<string> {
  web.server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const id = Number(JSON.parse(body).id);
    web.sent.push(id);
    if (web.receiptFirst) {
      const r = await postReceipts('web', { id: String(id), status: 'delivered' });
      web.receiptAnswers.push(r.status);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0 }));
  });
  return new Promise((resolve) => web.server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(web.server!.address() as AddressInfo).port}`)));
}

async function postReceipts(provider: string, payload: unknown, token: string | null = WEB_RECEIPT_TOKEN, raw?: string) {
  const res = await fetch(`${herald.url}/providers/${provider}/receipts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ?? JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as any };
}

// ---- Herald ---------------------------------------------------------------------------------

beforeAll(async () => {
  const port = await startSmsc();
  const webUrl = await startWeb();
  const providers = parseProvidersFile(
    JSON.stringify({
      providers: [
        { name: 'smsc', type: 'smpp', host: '127.0.0.1', port, systemId: 'herald', password: SMSC_PASSWORD, sourceAddr: 'Herald', enquireLinkMs: 5_000 },
        { name: 'web', type: 'http', url: webUrl, token: WEB_TOKEN, receiptToken: WEB_RECEIPT_TOKEN },
      ],
      routes: [{ operatorCodes: ['916'], providers: ['smsc'] }, { providers: ['web'] }],
    }),
    {},
  );
  herald = await startTestHerald({ providers, receiptParkMs: PARK_MS });
  await waitFor(() => smsc.session, 5_000, 'the SMSC bound');
}, 60_000);

afterAll(async () => {
  await herald?.stop();
  await new Promise((r) => web.server?.close(r));
  await new Promise((r) => smsc.server?.close(r));
});

async function mailingTo(count: number, operatorCode: string) {
  const tag = `r${Math.random().toString(36).slice(2, 10)}`;
  await insertClients(herald, count, { tags: [tag], operatorCode });
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Hello from Herald', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } });
  const id = data.createMailing.id as string;
  await untilMailingStatus(herald, id, 'COMPLETED', 10_000);
  return id;
}

async function rows(mailingId: string) {
  return herald.sql<{ id: string; status: string; last_error: string | null; delivered_at: Date | null; provider_message_id: string }[]>`
    select id, status, last_error, delivered_at, provider_message_id from messages where mailing_id = ${mailingId} order by id`;
}

const STATS = `query($id: ID!) { mailing(id: $id) { status stats { sent delivered undelivered deliveryRate awaitingReceipt } } }`;
const statsOf = async (id: string) => (await herald.ok(STATS, { id })).mailing;

describe('SMPP receipts', () => {
  it('should apply text-form and TLV receipts to a COMPLETED mailing, answer each, and move its stats', async () => {
    const id = await mailingTo(4, '916');
    const [a, b, c, d] = (await rows(id)).map((r) => r.provider_message_id);
    expect(await statsOf(id)).toEqual({ status: 'COMPLETED', stats: { sent: 4, delivered: 0, undelivered: 0, deliveryRate: null, awaitingReceipt: 4 } });

    expect(await deliver({ esm_class: 0x04, short_message: receiptText(a, 'DELIVRD') })).toBe(0);
    expect(await deliver({ esm_class: 0x04, short_message: receiptText(b, 'UNDELIV', '034') })).toBe(0);
    // The TLVs win over the text: the text says DELIVRD of another id.
    expect(await deliver({ esm_class: 0x04, short_message: receiptText('zzz', 'DELIVRD'), receipted_message_id: c, message_state: 8 })).toBe(0);
    // Not final: nothing changes.
    expect(await deliver({ esm_class: 0x04, short_message: receiptText(d, 'ENROUTE') })).toBe(0);

    const after = await rows(id);
    expect(after.map((r) => [r.status, r.last_error])).toEqual([
      ['DELIVERED', null],
      ['UNDELIVERED', 'UNDELIV err:034'],
      ['UNDELIVERED', 'REJECTD'],
      ['SENT', null],
    ]);
    expect(after[0].delivered_at).toBeInstanceOf(Date);
    expect(after[3].delivered_at).toBeNull();
    await waitFor(async () => (await statsOf(id)).stats.delivered === 1 && true, 3_000, 'stats to follow');
    expect((await statsOf(id)).stats).toEqual({ sent: 4, delivered: 1, undelivered: 2, deliveryRate: 1 / 3, awaitingReceipt: 1 });
    const line = herald.logs.find((l) => l.msg === 'receipt applied' && l.providerMessageId === b);
    expect(line).toMatchObject({ provider: 'smsc', mailingId: Number(id), messageId: Number(after[1].id), status: 'UNDELIVERED' });

    // A second receipt for a final status changes nothing.
    expect(await deliver({ esm_class: 0x04, short_message: receiptText(a, 'UNDELIV', '001') })).toBe(0);
    expect((await rows(id))[0]).toMatchObject({ status: 'DELIVERED', last_error: null });
  });

  it('should acknowledge a receipt of an id it does not know, change nothing, and drop it after RECEIPT_PARK_MS', async () => {
    const before = await herald.sql`select id, status from messages order by id`;
    expect(await deliver({ esm_class: 0x04, short_message: receiptText('no-such-id', 'DELIVRD') })).toBe(0);
    expect(await herald.sql`select provider, provider_message_id from parked_receipts`).toEqual([{ provider: 'smsc', provider_message_id: 'no-such-id' }]);
    await waitFor(async () => (await herald.sql`select 1 from parked_receipts`).length === 0, PARK_MS + 3_000, 'the parked receipt dropped');
    expect(await herald.sql`select id, status from messages order by id`).toEqual(before);
    expect(herald.logs.find((l) => l.msg.startsWith('receipts dropped'))).toMatchObject({ provider: 'smsc', receipts: 1 });
  });

  it('should apply a receipt that comes right after its submit_sm_resp, before the SENT is committed', async () => {
    smsc.receiptAtOnce = true;
    try {
      const answered = smsc.answers.length;
      const id = await mailingTo(20, '916');
      const completed = Date.now();
      await waitFor(async () => (await rows(id)).every((r) => r.status === 'DELIVERED'), 2_000, 'every message DELIVERED');
      expect(Date.now() - completed).toBeLessThan(2_000);
      await waitFor(() => smsc.answers.length - answered === 20, 2_000, 'each deliver_sm answered');
      expect(smsc.answers.slice(answered).every((s) => s === 0)).toBe(true);
      // They did come first: some were parked, and applied by the sweep.
      const ids = new Set((await rows(id)).map((r) => r.provider_message_id));
      expect(herald.logs.filter((l) => l.msg.startsWith('receipt parked') && ids.has(l.providerMessageId)).length).toBeGreaterThan(0);
      await waitFor(async () => (await statsOf(id)).stats.delivered === 20, 3_000, 'stats delivered 20');
      expect((await statsOf(id)).stats).toMatchObject({ delivered: 20, undelivered: 0, deliveryRate: 1, awaitingReceipt: 0 });
    } finally {
      smsc.receiptAtOnce = false;
    }
  });

  it('should keep a deliver_sm that is not a receipt as a reply, decoding UCS-2 and GSM and normalising the phone', async () => {
    expect(await deliver({ esm_class: 0, data_coding: 8, source_addr: '+79161234567', short_message: { message: 'Стоп, спасибо' } })).toBe(0);
    expect(await deliver({ esm_class: 0, data_coding: 0, source_addr: '89167654321', short_message: { message: 'STOP' } })).toBe(0);
    const got = await herald.sql`select provider, from_phone, text from inbound_messages order by id`;
    expect(got).toEqual([
      { provider: 'smsc', from_phone: '79161234567', text: 'Стоп, спасибо' },
      { provider: 'smsc', from_phone: '79167654321', text: 'STOP' },
    ]);
  });
});

describe('SMPP: a deliver_sm Herald could not keep', () => {
  it('should be answered ESME_RX_T_APPN (0x64), so that the SMSC delivers it again, and 0 once it can be kept', async () => {
    // A real refusal by the database: constraints that refuse these rows.
    await herald.sql`alter table inbound_messages add constraint refuse_test check (text <> 'REFUSE ME')`;
    await herald.sql`alter table parked_receipts add constraint refuse_test check (provider_message_id <> 'refuse-me')`;
    try {
      expect(await deliver({ esm_class: 0, source_addr: '79160000001', short_message: { message: 'REFUSE ME' } })).toBe(0x64);
      expect(await deliver({ esm_class: 0x04, short_message: receiptText('refuse-me', 'DELIVRD') })).toBe(0x64);
    } finally {
      await herald.sql`alter table inbound_messages drop constraint refuse_test`;
      await herald.sql`alter table parked_receipts drop constraint refuse_test`;
    }
    expect(await deliver({ esm_class: 0, source_addr: '79160000001', short_message: { message: 'REFUSE ME' } })).toBe(0);
    expect(await herald.sql`select text from inbound_messages where from_phone = '79160000001'`).toEqual([{ text: 'REFUSE ME' }]);
  });
});

describe('HTTP receipts: POST /providers/<name>/receipts', () => {
  it('should refuse a wrong or missing token (401) and an unknown provider (404), changing nothing', async () => {
    const id = await mailingTo(1, '925');
    const [m] = await rows(id);
    expect((await postReceipts('web', { id: m.id, status: 'delivered' }, 'not-the-token-at-all')).status).toBe(401);
    expect((await postReceipts('web', { id: m.id, status: 'delivered' }, null)).status).toBe(401);
    expect((await postReceipts('nobody', { id: m.id, status: 'delivered' })).status).toBe(404);
    // The SMSC takes no posts: it has no receiptToken.
    expect((await postReceipts('smsc', { id: m.id, status: 'delivered' })).status).toBe(404);
    expect((await rows(id))[0].status).toBe('SENT');
  });

  it('should refuse a malformed body with the reason (400), applying nothing of its batch', async () => {
    const id = await mailingTo(2, '925');
    const [m1, m2] = await rows(id);
    const bad = await postReceipts('web', [{ id: m1.id, status: 'delivered' }, { id: m2.id, status: 'lost' }]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^\[1\]\.status: /);
    const notJson = await postReceipts('web', null, WEB_RECEIPT_TOKEN, '{"id": ');
    expect(notJson).toEqual({ status: 400, body: { error: 'the body is not JSON' } });
    const noId = await postReceipts('web', { status: 'delivered' });
    expect(noId.status).toBe(400);
    expect(noId.body.error).toMatch(/^id: /);
    const badAt = await postReceipts('web', { id: m1.id, status: 'delivered', at: 'yesterday' });
    expect(badAt.status).toBe(400);
    expect(badAt.body.error).toMatch(/^at: /);
    expect((await rows(id)).map((r) => r.status)).toEqual(['SENT', 'SENT']);
  });

  it('should apply delivered, expired and rejected, answer an unknown id 404 and a duplicate 200 without change', async () => {
    const id = await mailingTo(3, '925');
    const [m1, m2, m3] = await rows(id);
    const at = '2026-12-01T10:00:00.000Z';
    expect(await postReceipts('web', { id: m1.id, status: 'delivered', at })).toEqual({ status: 200, body: { id: m1.id, result: 'applied' } });
    expect((await postReceipts('web', { id: Number(m2.id), status: 'expired' })).status).toBe(200);
    expect((await postReceipts('web', { id: m3.id, status: 'rejected', error: 'blacklisted' })).status).toBe(200);
    // Far past any id handed out: unknown.
    expect(await postReceipts('web', { id: '900000000000', status: 'delivered' })).toEqual({ status: 404, body: { id: '900000000000', result: 'unknown' } });
    expect(await postReceipts('web', { id: 'abc', status: 'delivered' })).toEqual({ status: 404, body: { id: 'abc', result: 'unknown' } });
    // Again, and the other way: nothing changes.
    expect(await postReceipts('web', { id: m1.id, status: 'undelivered', error: 'late' })).toEqual({ status: 200, body: { id: m1.id, result: 'applied' } });
    const after = await rows(id);
    expect(after.map((r) => [r.status, r.last_error])).toEqual([
      ['DELIVERED', null],
      ['UNDELIVERED', 'expired'],
      ['UNDELIVERED', 'rejected: blacklisted'],
    ]);
    expect(after[0].delivered_at?.toISOString()).toBe(at);
    const page = await herald.ok(`query($id: ID!) { mailing(id: $id) { messages(first: 3) { edges { node { status lastError deliveredAt } } } } }`, { id });
    expect(page.mailing.messages.edges[0].node).toEqual({ status: 'DELIVERED', lastError: null, deliveredAt: at });
    await waitFor(async () => (await statsOf(id)).stats.undelivered === 2 && true, 3_000, 'stats');
    expect((await statsOf(id)).stats).toEqual({ sent: 3, delivered: 1, undelivered: 2, deliveryRate: 1 / 3, awaitingReceipt: 0 });
  });

  it('should take a batch and answer each receipt’s result', async () => {
    const id = await mailingTo(3, '925');
    const [m1, m2, m3] = await rows(id);
    await postReceipts('web', { id: m3.id, status: 'delivered' });
    const res = await postReceipts('web', [
      { id: m1.id, status: 'delivered' },
      { id: m2.id, status: 'undelivered', error: 'absent subscriber' },
      { id: m3.id, status: 'undelivered' },
      { id: '900000000001', status: 'delivered' },
    ]);
    expect(res).toEqual({
      status: 200,
      body: {
        results: [
          { id: m1.id, result: 'applied' },
          { id: m2.id, result: 'applied' },
          { id: m3.id, result: 'applied' },
          { id: '900000000001', result: 'unknown' },
        ],
      },
    });
    expect((await rows(id)).map((r) => [r.status, r.last_error])).toEqual([
      ['DELIVERED', null],
      ['UNDELIVERED', 'undelivered: absent subscriber'],
      ['DELIVERED', null],
    ]);
    const tooMany = await postReceipts('web', Array.from({ length: 1_001 }, () => ({ id: m1.id, status: 'delivered' })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toContain('at most 1000');
  });

  it('should apply a batch of 1,000 receipts in one request, and the stats follow', async () => {
    const id = await mailingTo(1_000, '925');
    const all = await rows(id);
    const started = performance.now();
    const res = await postReceipts('web', all.map((r, i) => ({ id: r.id, status: i % 4 === 0 ? 'undelivered' : 'delivered', error: i % 4 === 0 ? 'absent subscriber' : undefined })));
    const ms = Math.round(performance.now() - started);
    console.log(`1,000 receipts in one request: ${ms} ms`);
    expect(res.status).toBe(200);
    expect(res.body.results.every((r: { result: string }) => r.result === 'applied')).toBe(true);
    await waitFor(async () => (await statsOf(id)).stats.delivered === 750 && true, 5_000, 'stats delivered 750');
    expect((await statsOf(id)).stats).toEqual({ sent: 1_000, delivered: 750, undelivered: 250, deliveryRate: 0.75, awaitingReceipt: 0 });
  });

  it('should park a receipt posted before the gateway answered the send (202) and apply it within 2 s', async () => {
    web.receiptFirst = true;
    try {
      const answers = web.receiptAnswers.length;
      const id = await mailingTo(10, '925');
      const completed = Date.now();
      await waitFor(async () => (await rows(id)).every((r) => r.status === 'DELIVERED'), 2_000, 'every message DELIVERED');
      expect(Date.now() - completed).toBeLessThan(2_000);
      // The message was not recorded yet, but its id was handed out: never 404.
      expect(web.receiptAnswers.slice(answers)).toEqual(Array(10).fill(202));
      await waitFor(async () => (await statsOf(id)).stats.delivered === 10, 3_000, 'stats delivered 10');
      await sleep(50);
      expect(await herald.sql`select 1 from parked_receipts`).toHaveLength(0);
    } finally {
      web.receiptFirst = false;
    }
  });
});
