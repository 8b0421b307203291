import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewaySimulator } from '../src/gateway/simulator';
import { createLogger } from '../src/logger';
import { providersOf } from '../src/providers/providers.build';
import { SmppSimulator, type SmscBehaviour } from '../src/providers/smpp.simulator';
import { testConfig } from './support/herald';
import { freePort } from './support/ports';
import { sleep, waitFor } from './support/wait';

// The simulators' sending side of receipts and replies, against real sockets: a node:http
// receiver in Herald's place for the HTTP simulator, the `smpp` package's client bound to
// the SMSC simulator. What the receiver or the client got is asserted, nothing else.

const GATEWAY_TOKEN = 'gateway-token-for-tests-0123456';
const RECEIPT_TOKEN = 'receipt-token-for-tests-0123456';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Post = { path: string; authorization: string | undefined; body: any; at: number };

/** Herald's stand-in: records every POST; `answer` decides each status (a promise: it may hold the answer). */
async function receiver(answer: (post: Post, n: number) => number | Promise<number> = () => 200) {
  const posts: Post[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const post: Post = { path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString()), at: Date.now() };
      posts.push(post);
      const status = await answer(post, posts.length);
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** every receipt posted to the receipts path, batches flattened */
  const receipts = () => posts.filter((p) => p.path.endsWith('/receipts')).flatMap((p) => (Array.isArray(p.body) ? p.body : [p.body]));
  return { posts, base, receipts, receiptsUrl: `${base}/providers/sim/receipts`, inboundUrl: `${base}/providers/sim/inbound` };
}

async function gateway(options: Partial<ConstructorParameters<typeof GatewaySimulator>[0]> = {}) {
  const simulator = new GatewaySimulator({ token: GATEWAY_TOKEN, receiptToken: RECEIPT_TOKEN, ...options });
  const url = await simulator.start();
  cleanups.push(() => simulator.stop());
  return { simulator, url };
}

/** Sends as Herald does; resolves with the answer's status and when it came. */
async function send(url: string, id: number, token = GATEWAY_TOKEN) {
  const startedAt = Date.now();
  const res = await fetch(`${url}/send/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id, phone: 79000000000 + id, text: 'Hello' }),
  });
  await res.text();
  return { status: res.status, startedAt, at: Date.now() };
}

const ERRORS = { undelivered: 'UNDELIV err:034', expired: 'EXPIRED err:027', rejected: 'REJECTD err:088' } as const;

describe('the HTTP gateway simulator sends receipts and replies', () => {
  it('should post one receipt per accepted message with the token, in the shares and within the delay asked for', async () => {
    const herald = await receiver();
    const { url } = await gateway({
      receiptsUrl: herald.receiptsUrl,
      behaviour: { deliveredRate: 0.8, failureShares: { undelivered: 2, expired: 1, rejected: 1 }, receiptDelayMs: [100, 400] },
    });
    const answeredAt = new Map<string, { startedAt: number; at: number }>();
    const ids = Array.from({ length: 500 }, (_, i) => i + 1);
    for (let i = 0; i < ids.length; i += 50) {
      const answers = await Promise.all(ids.slice(i, i + 50).map((id) => send(url, id)));
      answers.forEach((a, j) => {
        expect(a.status).toBe(200);
        answeredAt.set(String(ids[i + j]), a);
      });
    }
    // A refused send (wrong token) is not accepted: no receipt for it.
    expect((await send(url, 9999, 'wrong-token-000000000000')).status).toBe(401);
    await waitFor(() => herald.receipts().length >= 500, 10_000, '500 receipts');
    await sleep(500);
    const receipts = herald.receipts();
    expect(receipts).toHaveLength(500);
    expect(new Set(receipts.map((r) => r.id))).toEqual(new Set(ids.map(String)));
    for (const post of herald.posts) {
      expect(post.path).toBe('/providers/sim/receipts');
      expect(post.authorization).toBe(`Bearer ${RECEIPT_TOKEN}`);
    }
    const arrival = new Map<string, number>();
    for (const post of herald.posts) for (const r of Array.isArray(post.body) ? post.body : [post.body]) arrival.set(r.id, post.at);
    for (const r of receipts) {
      expect(Object.keys(r).sort()).toEqual(r.status === 'delivered' ? ['at', 'id', 'status'] : ['at', 'error', 'id', 'status']);
      expect(['delivered', 'undelivered', 'expired', 'rejected']).toContain(r.status);
      if (r.status !== 'delivered') expect(r.error).toBe(ERRORS[r.status as keyof typeof ERRORS]);
      expect(new Date(r.at).toISOString()).toBe(r.at);
      // never before the delay's minimum after the send began; due (its `at`) within its
      // maximum after the answer came, with some slack: one event loop runs both ends
      const request = answeredAt.get(r.id)!;
      expect(arrival.get(r.id)! - request.startedAt).toBeGreaterThanOrEqual(99);
      expect(Date.parse(r.at) - request.at).toBeLessThan(400 + 500);
    }
    const share = (status: string) => receipts.filter((r) => r.status === status).length / receipts.length;
    // 500 draws: four standard deviations of each share
    expect(share('delivered')).toBeGreaterThan(0.8 - 0.072);
    expect(share('delivered')).toBeLessThan(0.8 + 0.072);
    expect(share('undelivered')).toBeGreaterThan(0.1 - 0.054);
    expect(share('undelivered')).toBeLessThan(0.1 + 0.054);
    expect(share('expired') + share('rejected')).toBeGreaterThan(0.1 - 0.054);
    expect(share('expired')).toBeGreaterThan(0);
    expect(share('rejected')).toBeGreaterThan(0);
  }, 30_000);

  it('should keep receipts until it learns the receipts URL, then post those due together as one JSON array', async () => {
    const herald = await receiver();
    const { simulator, url } = await gateway({ behaviour: { receipts: true, receiptDelayMs: 0 } });
    for (let id = 1; id <= 10; id++) expect((await send(url, id)).status).toBe(200);
    await sleep(200);
    expect(herald.posts).toHaveLength(0);
    expect(simulator.receiptStats.pending).toBe(10);
    simulator.setCallbacks({ receiptsUrl: herald.receiptsUrl });
    await waitFor(() => herald.receipts().length === 10, 5_000, '10 receipts');
    expect(herald.posts).toHaveLength(1);
    expect(Array.isArray(herald.posts[0].body)).toBe(true);
    expect(herald.posts[0].body.map((r: { id: string }) => r.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  });

  it('should send no receipt without a receipts URL (as every simulator built without one)', async () => {
    const { simulator, url } = await gateway();
    expect(simulator.current.receipts).toBe(false);
    expect((await send(url, 1)).status).toBe(200);
    await sleep(100);
    expect(simulator.receiptStats).toMatchObject({ delivered: 0, undelivered: 0, pending: 0, scheduled: 0, posts: 0 });
  });

  it('should retry a receipt Herald failed with backoff, give up on one it refused, and answer sends meanwhile at once', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // 1st: 503, 2nd: no answer for a while (the send must not wait for it), then 200; id 2 is refused with 404
    const herald = await receiver(async (post, n) => {
      if (post.body.id === '2') return 404;
      if (n === 1) return 503;
      if (n === 2) {
        await held;
        return 500;
      }
      return 200;
    });
    const { simulator, url } = await gateway({ receiptsUrl: herald.receiptsUrl, behaviour: { receiptDelayMs: 0, deliveredRate: 1 } });
    expect((await send(url, 1)).status).toBe(200);
    await waitFor(() => herald.posts.length === 2, 5_000, 'a retry after the 503');
    const started = Date.now();
    expect((await send(url, 2)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(200);
    release();
    await waitFor(() => simulator.receiptStats.posted === 1 && simulator.receiptStats.refused === 1, 10_000, 'receipt 1 taken, receipt 2 refused');
    const forOne = herald.posts.filter((p) => p.body.id === '1');
    expect(forOne.length).toBe(3);
    // each retry waits longer than the one before (250 ms × 0.5–1.5, then 500 ms × 0.5–1.5)
    expect(forOne[1].at - forOne[0].at).toBeGreaterThanOrEqual(100);
    expect(herald.posts.filter((p) => p.body.id === '2')).toHaveLength(1);
  }, 20_000);

  it('should post a reply from a phone when asked on its control endpoint, and refuse a malformed ask', async () => {
    const herald = await receiver();
    const { url } = await gateway({ receiptsUrl: herald.receiptsUrl, inboundUrl: herald.inboundUrl });
    const ask = (body: unknown) => fetch(`${url}/_sim/reply`, { method: 'POST', body: JSON.stringify(body) });
    const res = await ask({ from: '79001234567', text: 'STOP' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ heraldStatus: 200, heraldBody: '{}' });
    expect(herald.posts).toHaveLength(1);
    const [post] = herald.posts;
    expect(post.path).toBe('/providers/sim/inbound');
    expect(post.authorization).toBe(`Bearer ${RECEIPT_TOKEN}`);
    expect(Object.keys(post.body).sort()).toEqual(['at', 'from', 'text']);
    expect(post.body).toMatchObject({ from: '79001234567', text: 'STOP' });
    for (const bad of [{ text: 'STOP' }, { from: '123', text: 'STOP' }, { from: '79001234567', text: '' }]) {
      const r = await ask(bad);
      expect(r.status).toBe(400);
      expect((await r.json()).message).toMatch(/from/);
    }
    expect(herald.posts).toHaveLength(1);
  });

  it('should refuse a receipt behaviour out of range on /_sim/behaviour and change nothing', async () => {
    const { simulator, url } = await gateway();
    const res = await fetch(`${url}/_sim/behaviour`, { method: 'POST', body: JSON.stringify({ deliveredRate: 1.5 }) });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/deliveredRate/);
    expect(simulator.current.deliveredRate).toBe(0.9);
    const ok = await fetch(`${url}/_sim/behaviour`, { method: 'POST', body: JSON.stringify({ deliveredRate: 0.5, receiptDelayMs: [10, 20] }) });
    expect(ok.status).toBe(200);
    expect(simulator.current).toMatchObject({ deliveredRate: 0.5, receiptDelayMs: [10, 20] });
  });
});

describe('the built-in simulator (no provider configured)', () => {
  it("should post receipts to Herald's own /providers/default/receipts with the default provider's receiptToken, once Herald says where it listens", async () => {
    const herald = await receiver();
    const config = testConfig({ senderUrl: undefined, senderToken: undefined, providers: null });
    const built = await providersOf({ ...config, simulatorReceipts: { receipts: true, deliveredRate: 1, receiptDelayMs: 0 } }, createLogger('silent'));
    cleanups.push(() => built.stop());
    const [provider] = built.providers.providers;
    expect(provider.type).toBe('http');
    if (provider.type !== 'http') return;
    expect(provider.receiptToken).toMatch(/^[\w-]{32}$/);
    expect((await send(provider.url, 7, provider.token)).status).toBe(200);
    await sleep(100);
    expect(herald.posts).toHaveLength(0); // port 0: nowhere to post yet
    built.listening(herald.base.replace('127.0.0.1', '0.0.0.0'));
    await waitFor(() => herald.posts.length === 1, 5_000, 'the receipt');
    expect(herald.posts[0]).toMatchObject({ path: '/providers/default/receipts', authorization: `Bearer ${provider.receiptToken}`, body: { id: '7', status: 'delivered' } });
  });

  it('should send none with SENDER_SIMULATOR_RECEIPTS=false', async () => {
    const herald = await receiver();
    const config = testConfig({ senderUrl: undefined, senderToken: undefined, providers: null });
    const built = await providersOf({ ...config, simulatorReceipts: { ...config.simulatorReceipts, receipts: false, receiptDelayMs: 0 } }, createLogger('silent'));
    cleanups.push(() => built.stop());
    built.listening(herald.base);
    const [provider] = built.providers.providers;
    if (provider.type !== 'http') throw new Error('an http provider');
    expect((await send(provider.url, 7, provider.token)).status).toBe(200);
    await sleep(200);
    expect(herald.posts).toHaveLength(0);
  });
});

// ---- SMPP ----

const PASSWORD = 'sm5c-pw';

async function smsc(behaviour: Partial<SmscBehaviour>) {
  const sim = new SmppSimulator({ systemId: 'herald', password: PASSWORD, behaviour: { receipts: true, ...behaviour } });
  const address = await sim.start();
  cleanups.push(() => sim.stop());
  return { sim, address };
}

type Deliver = { pdu: smpp.PDU; at: number };

/** A bound ESME; `answer` decides whether each deliver_sm is answered. */
async function esme(address: { host: string; port: number }, answer: (pdu: smpp.PDU, n: number) => boolean = () => true) {
  const session = smpp.connect({ host: address.host, port: address.port });
  session.on('error', () => {});
  const delivers: Deliver[] = [];
  session.on('deliver_sm', (pdu: smpp.PDU) => {
    delivers.push({ pdu, at: Date.now() });
    if (answer(pdu, delivers.length)) session.send(pdu.response());
  });
  await new Promise<void>((resolve, reject) =>
    session.bind_transceiver({ system_id: 'herald', password: PASSWORD }, (pdu) => (pdu.command_status === 0 ? resolve() : reject(new Error(`bind ${pdu.command_status}`)))),
  );
  cleanups.push(() => session.destroy());
  const submit = (fields: Record<string, unknown>) =>
    new Promise<string>((resolve, reject) =>
      session.send(new smpp.PDU('submit_sm', { source_addr: 'Herald', registered_delivery: 1, ...fields }), (pdu) =>
        pdu.command_status === 0 ? resolve(String(pdu.message_id)) : reject(new Error(`submit ${pdu.command_status}`)),
      ),
    );
  return { session, delivers, submit };
}

const RECEIPT_TEXT = /^id:(\S+) sub:001 dlvrd:(00[01]) submit date:(\d{10}) done date:(\d{10}) stat:(DELIVRD|UNDELIV|EXPIRED|REJECTD) err:(\d{3}) text:(.{0,20})$/;
const STATE = { DELIVRD: 2, UNDELIV: 5, EXPIRED: 3, REJECTD: 8 } as const;
const textOf = (pdu: smpp.PDU) => {
  const sm = pdu.short_message as { message?: string | Buffer } | string;
  const m = typeof sm === 'string' ? sm : sm.message;
  return typeof m === 'string' ? m : (m ?? Buffer.alloc(0)).toString('latin1');
};

describe('the SMPP simulator sends receipts and replies', () => {
  it('should deliver a receipt per submit_sm, in text and TLV form, whose ids are the submit_sm_resp ids', async () => {
    const { sim, address } = await smsc({ deliveredRate: 0.5, receiptDelayMs: [50, 150] });
    const client = await esme(address);
    const sent = new Map<string, { phone: string; text: string; startedAt: number; at: number }>();
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const phone = String(79100000000 + i);
        const text = `Hello number ${i}, this text is longer than twenty`;
        const startedAt = Date.now();
        const id = await client.submit({ destination_addr: phone, short_message: text });
        sent.set(id, { phone, text, startedAt, at: Date.now() });
      }),
    );
    await waitFor(() => client.delivers.length >= 60, 10_000, '60 receipts');
    await sleep(300);
    expect(client.delivers).toHaveLength(60);
    const states = new Map<string, number>();
    for (const { pdu, at } of client.delivers) {
      expect(pdu.esm_class).toBe(0x04);
      const m = RECEIPT_TEXT.exec(textOf(pdu));
      expect(m, textOf(pdu)).not.toBeNull();
      const [, id, dlvrd, , , stat, err, text] = m!;
      expect(pdu.receipted_message_id).toBe(id);
      expect(pdu.message_state).toBe(STATE[stat as keyof typeof STATE]);
      expect(dlvrd).toBe(stat === 'DELIVRD' ? '001' : '000');
      expect(err).toBe({ DELIVRD: '000', UNDELIV: '034', EXPIRED: '027', REJECTD: '088' }[stat]);
      expect(sent.has(id)).toBe(true);
      expect(text).toBe(sent.get(id)!.text.slice(0, 20));
      expect(pdu.source_addr).toBe(sent.get(id)!.phone);
      expect(pdu.destination_addr).toBe('Herald');
      expect(at - sent.get(id)!.startedAt).toBeGreaterThanOrEqual(49);
      expect(at - sent.get(id)!.at).toBeLessThan(150 + 500);
      states.set(id, pdu.message_state as number);
    }
    expect(new Set(states.keys())).toEqual(new Set(sent.keys()));
    expect([...states.values()].filter((s) => s === 2).length).toBeGreaterThan(10);
    expect([...states.values()].filter((s) => s !== 2).length).toBeGreaterThan(10);
    expect(sim.deliversAnswered).toBe(60);
  }, 20_000);

  it("should send one receipt per message with its first part's id, or one per part when asked", async () => {
    const udh = (ref: number, seq: number) => Buffer.from([0x05, 0x00, 0x03, ref, 2, seq]);
    const { sim, address } = await smsc({ receiptDelayMs: 0 });
    const client = await esme(address);
    const first = await client.submit({ destination_addr: '79200000001', short_message: { udh: udh(7, 1), message: 'first part ' } });
    const second = await client.submit({ destination_addr: '79200000001', short_message: { udh: udh(7, 2), message: 'second part' } });
    await waitFor(() => client.delivers.length >= 1, 5_000, 'a receipt');
    await sleep(200);
    expect(client.delivers).toHaveLength(1);
    expect(client.delivers[0].pdu.receipted_message_id).toBe(first);

    sim.set({ receiptPerPart: true });
    const ids = [
      await client.submit({ destination_addr: '79200000002', short_message: { udh: udh(8, 1), message: 'first part ' } }),
      await client.submit({ destination_addr: '79200000002', short_message: { udh: udh(8, 2), message: 'second part' } }),
    ];
    await waitFor(() => client.delivers.length >= 3, 5_000, 'two more receipts');
    await sleep(200);
    expect(client.delivers.slice(1).map((d) => d.pdu.receipted_message_id).sort()).toEqual(ids.sort());
    expect(ids).not.toContain(second);
  });

  it('should resend a receipt not answered within receiptResendMs, a bounded number of times', async () => {
    const { sim, address } = await smsc({ receiptDelayMs: 0, receiptResendMs: 300, receiptAttempts: 3 });
    // the first deliver_sm goes unanswered, the second is answered
    const client = await esme(address, (_pdu, n) => n !== 1);
    const id = await client.submit({ destination_addr: '79300000001', short_message: 'Hello' });
    await waitFor(() => client.delivers.length >= 2, 5_000, 'the receipt again');
    // arrival times: the first may reach the client a little late (one event loop for both ends)
    expect(client.delivers[1].at - client.delivers[0].at).toBeGreaterThanOrEqual(200);
    expect(client.delivers.map((d) => d.pdu.receipted_message_id)).toEqual([id, id]);
    await sleep(800);
    expect(client.delivers).toHaveLength(2);
    expect(sim.delivers[0]).toMatchObject({ kind: 'receipt', attempts: 2, status: 0 });

    // never answered: three times in all, then given up on
    const silent = await esme(address, () => false);
    client.session.destroy();
    await waitFor(() => sim.bound.length === 1, 2_000, 'one bind left');
    await silent.submit({ destination_addr: '79300000002', short_message: 'Hello' });
    await waitFor(() => sim.deliversFailed === 1, 5_000, 'given up');
    expect(silent.delivers).toHaveLength(3);
  }, 15_000);

  it('should deliver a receipt on another bound session when the submit came through one that is gone', async () => {
    const { address } = await smsc({ receiptDelayMs: 300 });
    const a = await esme(address);
    const b = await esme(address);
    const id = await a.submit({ destination_addr: '79400000001', short_message: 'Hello' });
    a.session.destroy();
    await waitFor(() => b.delivers.length === 1, 5_000, 'the receipt on the other bind');
    expect(b.delivers[0].pdu.receipted_message_id).toBe(id);
  });

  it('should send a reply from a phone as a deliver_sm with esm_class 0, to the last source_addr', async () => {
    const { sim, address } = await smsc({ receipts: false });
    const client = await esme(address);
    await client.submit({ destination_addr: '79500000001', source_addr: 'Shop', short_message: 'Sale!' });
    expect(await sim.reply('79500000001', 'STOP')).toBe(0);
    expect(await sim.reply('79500000001', 'СТОП')).toBe(0);
    expect(client.delivers).toHaveLength(2);
    const [stop, cyrillic] = client.delivers.map((d) => d.pdu);
    expect(stop).toMatchObject({ esm_class: 0, source_addr: '79500000001', destination_addr: 'Shop' });
    expect(textOf(stop)).toBe('STOP');
    expect(cyrillic.data_coding).toBe(8);
    expect((cyrillic.short_message as { message: string }).message).toBe('СТОП');
  });
});

describe('npm run gateway -- --both, with receipts', () => {
  it('should take the receipt flags, post HTTP receipts and replies to GATEWAY_RECEIPTS_URL / GATEWAY_INBOUND_URL, and send SMPP receipts and replies', async () => {
    const herald = await receiver();
    const [httpPort, smppPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/gateway.ts', '--both', '--delivered-rate=0', '--receipt-delay=0'], {
      cwd: new URL('..', import.meta.url),
      env: {
        PATH: process.env.PATH ?? '',
        GATEWAY_PORT: String(httpPort),
        GATEWAY_TOKEN: GATEWAY_TOKEN,
        GATEWAY_RECEIPTS_URL: herald.receiptsUrl,
        GATEWAY_INBOUND_URL: herald.inboundUrl,
        SMPP_PORT: String(smppPort),
        SMPP_CONTROL_PORT: String(controlPort),
        SMPP_PASSWORD: PASSWORD,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGTERM'));
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    await waitFor(() => output.includes('smpp simulator at') && output.includes('gateway simulator at'), 20_000, 'both simulators to start');
    expect(output).toContain(`receipts to ${herald.receiptsUrl}`);

    const url = `http://127.0.0.1:${httpPort}`;
    expect((await send(url, 42)).status).toBe(200);
    await waitFor(() => herald.receipts().length === 1, 5_000, 'the HTTP receipt');
    const [receipt] = herald.receipts();
    expect(receipt.id).toBe('42');
    expect(receipt.status).not.toBe('delivered'); // --delivered-rate=0
    expect(herald.posts[0].authorization).toBe('Bearer simulator-receipt-token'); // the example file's receiptToken
    const reply = await fetch(`${url}/_sim/reply`, { method: 'POST', body: JSON.stringify({ from: '79001234567', text: 'STOP' }) });
    expect(await reply.json()).toMatchObject({ heraldStatus: 200 });
    expect(herald.posts.at(-1)).toMatchObject({ path: '/providers/sim/inbound', body: { from: '79001234567', text: 'STOP' } });

    const control = `http://127.0.0.1:${controlPort}/_sim`;
    expect((await fetch(`${control}/reply`, { method: 'POST', body: JSON.stringify({ from: '79001234567', text: 'STOP' }) })).status).toBe(409); // nobody bound
    const client = await esme({ host: '127.0.0.1', port: smppPort });
    const id = await client.submit({ destination_addr: '79600000001', short_message: 'Hello' });
    await waitFor(() => client.delivers.length === 1, 5_000, 'the SMPP receipt');
    expect(client.delivers[0].pdu).toMatchObject({ esm_class: 0x04, receipted_message_id: id });
    expect(client.delivers[0].pdu.message_state).not.toBe(2);
    const smppReply = await fetch(`${control}/reply`, { method: 'POST', body: JSON.stringify({ from: '79001234567', text: 'START' }) });
    expect(await smppReply.json()).toEqual({ deliverSmRespStatus: 0 });
    expect(client.delivers[1].pdu).toMatchObject({ esm_class: 0, source_addr: '79001234567', destination_addr: 'Herald' });
    expect(textOf(client.delivers[1].pdu)).toBe('START');
    const stats = await (await fetch(`${control}/stats`)).json();
    expect(stats.receipts).toMatchObject({ delivered: 0, answered: 2 });
    expect((await fetch(`${control}/behaviour`, { method: 'POST', body: JSON.stringify({ receiptDelayMs: [5, 1] }) })).status).toBe(400);
  }, 40_000);
});
