import smpp from 'smpp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SendOutcome } from '../src/dispatch/dispatch.ports';
import { createLogger } from '../src/logger';
import { SmppSender, type SmppSenderOptions } from '../src/providers/smpp.client';
import { SmppSimulator, type SmscBehaviour } from '../src/providers/smpp.simulator';
import { sleep, waitFor } from './support/wait';

// The SMPP adapter against a real SMSC on a real socket: the `smpp` package's server, in
// the shape of SmppSimulator. No Herald process: what the SMSC saw is asserted directly.

const PASSWORD = 'pa55-w0rd';
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function smsc(behaviour: Partial<SmscBehaviour> = {}) {
  const sim = new SmppSimulator({ systemId: 'herald', password: PASSWORD, behaviour });
  const address = await sim.start();
  cleanups.push(() => sim.stop());
  return { sim, address };
}

function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = createLogger('debug', {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  });
  return { log, lines, raw };
}

function sender(address: { host: string; port: number }, options: Partial<SmppSenderOptions> = {}) {
  const s = new SmppSender({
    name: 'smsc',
    host: address.host,
    port: address.port,
    systemId: 'herald',
    password: PASSWORD,
    sourceAddr: 'Herald',
    binds: 1,
    window: 10,
    requestTimeoutMs: 3_000,
    enquireLinkMs: 10_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    log: createLogger('silent'),
    ...options,
  });
  cleanups.push(() => s.close());
  return s;
}

let nextId = 1;
function send(s: SmppSender, text = 'Hello from Herald', deadlineMs = 10_000) {
  const id = nextId++;
  const phone = String(79_000_000_000 + id);
  return { id, phone, ...s.send({ id, phone, text }, Date.now() + deadlineMs) };
}

const outcomes = (sendings: { outcome: Promise<SendOutcome> }[]) => Promise.all(sendings.map((s) => s.outcome));
const kinds = (list: SendOutcome[]) => list.map((o) => o.kind);

describe('SMPP provider: binding', () => {
  it('should answer retryable at once while the SMSC refuses the bind, and bind by itself once it accepts', async () => {
    const { sim, address } = await smsc({ refuseBinds: true });
    const s = sender(address);
    await s.ready();
    expect(s.state()).toMatchObject({ state: 'DOWN', bindsUp: 0, reason: expect.stringContaining('bind refused: ESME_RBINDFAIL') });

    const started = Date.now();
    const meanwhile = await outcomes([send(s), send(s), send(s)]);
    expect(Date.now() - started).toBeLessThan(100);
    for (const outcome of meanwhile) {
      expect(outcome).toMatchObject({ kind: 'retryable', error: expect.stringContaining('ESME_RBINDFAIL') });
    }

    sim.set({ refuseBinds: false });
    await waitFor(() => s.state().state === 'UP', 5_000, 'the sender to bind again');
    expect(sim.refusedBinds).toBeGreaterThanOrEqual(1);
    const later = await outcomes([send(s), send(s), send(s)]);
    expect(kinds(later)).toEqual(['sent', 'sent', 'sent']);
    expect(sim.messages).toHaveLength(3);
    expect(s.state()).toEqual({ state: 'UP', reason: null, bindsUp: 1, inFlight: 0 });
  });

  it('should stay DOWN with a refused password, logging the provider and never the password', async () => {
    const { sim, address } = await smsc();
    const { log, raw } = capturedLog();
    const s = sender(address, { password: 'wrong-secret', log });
    await s.ready();
    expect(s.state()).toMatchObject({ state: 'DOWN', reason: expect.stringContaining('ESME_RBINDFAIL') });
    const outcome = await send(s).outcome;
    expect(outcome.kind).toBe('retryable');
    await waitFor(() => sim.bindAttempts >= 2, 5_000, 'a second bind attempt');
    await s.close();
    const lines = raw.map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'smpp bind refused' && l.provider === 'smsc')).toBe(true);
    expect(raw.join('\n')).not.toContain('wrong-secret');
    expect(JSON.stringify(outcome)).not.toContain('wrong-secret');
    expect(JSON.stringify(s)).not.toContain('wrong-secret');
  });

  it('should be DOWN while nothing listens, and come UP once the SMSC listens again', async () => {
    const { sim, address } = await smsc();
    await sim.refuse();
    const s = sender(address);
    await s.ready();
    expect(s.state()).toMatchObject({ state: 'DOWN', reason: 'connection failed: ECONNREFUSED' });
    expect(await send(s).outcome).toMatchObject({ kind: 'retryable', error: expect.stringContaining('ECONNREFUSED') });
    await sim.accept();
    await waitFor(() => s.state().state === 'UP', 5_000, 'the sender to connect');
    expect((await send(s).outcome).kind).toBe('sent');
  });

  it('should be DEGRADED with some binds up, and send through those', async () => {
    const { sim, address } = await smsc({ maxBinds: 1 });
    const states: string[] = [];
    const observed: string[] = [];
    const s = sender(address, {
      binds: 2,
      onStateChange: (st) => states.push(`${st.state} ${st.bindsUp}`),
      observe: () => (kind) => observed.push(kind),
    });
    await s.ready();
    expect(s.state()).toMatchObject({ state: 'DEGRADED', bindsUp: 1, reason: '1 of 2 binds down: bind refused: ESME_RBINDFAIL (0x0d)' });
    expect(kinds(await outcomes([send(s), send(s), send(s)]))).toEqual(['sent', 'sent', 'sent']);
    expect(observed).toEqual(['sent', 'sent', 'sent']);
    sim.set({ maxBinds: null });
    await waitFor(() => s.state().state === 'UP', 5_000, 'the second bind');
    expect(states[0]).toMatch(/^(DOWN 0|DEGRADED 1)$/);
    expect(states.at(-1)).toBe('UP 2');
  });

  it('should send unbind on close and wait for unbind_resp', async () => {
    const { sim, address } = await smsc();
    const s = sender(address, { binds: 2 });
    await s.ready();
    expect(s.state()).toMatchObject({ state: 'UP', bindsUp: 2 });
    await s.close();
    expect(sim.unbinds).toBe(2);
    expect(sim.binds.map((b) => b.unbound)).toEqual([true, true]);
    await waitFor(() => sim.bound.length === 0, 2_000, 'the sessions to close');
    expect(await send(s).outcome).toMatchObject({ kind: 'retryable', error: expect.stringContaining('closed') });
  });

  it('should answer an unbind from the SMSC and bind again', async () => {
    const { sim, address } = await smsc();
    const { log, lines } = capturedLog();
    const s = sender(address, { log });
    await s.ready();
    sim.unbindAll();
    await waitFor(() => sim.binds.length === 2 && s.state().state === 'UP', 5_000, 'a new bind');
    expect(lines.some((l) => l.msg === 'smpp bind down' && l.reason === 'the SMSC unbound')).toBe(true);
    expect((await send(s).outcome).kind).toBe('sent');
  });

  it('should keep a session alive with enquire_link', async () => {
    const { sim, address } = await smsc();
    const s = sender(address, { enquireLinkMs: 100 });
    await s.ready();
    await waitFor(() => sim.binds[0]?.enquireLinks >= 2, 3_000, 'two enquire_link');
    expect(s.state().state).toBe('UP');
  });
});

describe('SMPP provider: the window and the binds', () => {
  it('should never have more than `window` submit_sm unacknowledged on a bind, and send them all', async () => {
    const { sim, address } = await smsc({ latencyMs: 200 });
    const s = sender(address, { window: 3 });
    await s.ready();
    const sendings = Array.from({ length: 20 }, () => send(s));
    await waitFor(() => s.state().inFlight === 3, 2_000, 'a full window');
    const results = await outcomes(sendings);
    expect(kinds(results)).toEqual(Array(20).fill('sent'));
    expect(sim.binds).toHaveLength(1);
    expect(sim.binds[0].maxUnacknowledged).toBe(3);
    // In order, each with the message_id the SMSC gave it.
    expect(sim.binds[0].submits.map((p) => p.destination)).toEqual(sendings.map((x) => x.phone));
    expect(results.map((r) => (r.kind === 'sent' ? r.providerMessageId : null))).toEqual(sim.binds[0].submits.map((p) => p.messageId));
  });

  it('should share the load between 2 binds, each within its window', async () => {
    const { sim, address } = await smsc({ latencyMs: 100 });
    const s = sender(address, { binds: 2, window: 2 });
    await s.ready();
    const results = await outcomes(Array.from({ length: 20 }, () => send(s)));
    expect(kinds(results)).toEqual(Array(20).fill('sent'));
    expect(sim.binds).toHaveLength(2);
    for (const bind of sim.binds) {
      expect(bind.maxUnacknowledged).toBeLessThanOrEqual(2);
      expect(bind.submits.length).toBeGreaterThanOrEqual(8);
    }
  });

  it('should answer retryable, never sent, a message whose deadline passes while it waits for a window', async () => {
    const { sim, address } = await smsc({ latencyMs: 400 });
    const s = sender(address, { window: 1 });
    await s.ready();
    const first = send(s);
    const queued = send(s, 'too late', 100);
    const started = Date.now();
    expect(await queued.outcome).toMatchObject({ kind: 'retryable', error: expect.stringContaining('never sent') });
    expect(Date.now() - started).toBeLessThan(300);
    await queued.written;
    expect((await first.outcome).kind).toBe('sent');
    await sleep(200);
    expect(sim.submits.map((p) => p.destination)).toEqual([first.phone]);
  });
});

describe('SMPP provider: answers and failures', () => {
  it('should answer throttled to ESME_RTHROTTLED and ESME_RMSGQFUL, and sent once the SMSC takes them again', async () => {
    const { sim, address } = await smsc({ forceStatus: smpp.errors.ESME_RTHROTTLED });
    const s = sender(address);
    await s.ready();
    const throttled = await outcomes([send(s), send(s)]);
    for (const outcome of throttled) expect(outcome).toEqual({ kind: 'throttled', error: 'ESME_RTHROTTLED (0x58)', retryAfterMs: null });
    sim.set({ forceStatus: smpp.errors.ESME_RMSGQFUL });
    expect(await send(s).outcome).toMatchObject({ kind: 'throttled', error: 'ESME_RMSGQFUL (0x14)' });
    sim.set({ forceStatus: null });
    expect(kinds(await outcomes([send(s), send(s)]))).toEqual(['sent', 'sent']);
    expect(s.state().state).toBe('UP');
  });

  it('should answer rejected to an invalid destination and retryable to a system error', async () => {
    const { sim, address } = await smsc({ rejectRate: 1 });
    const s = sender(address);
    await s.ready();
    expect(await send(s).outcome).toEqual({ kind: 'rejected', error: 'ESME_RINVDSTADR (0x0b)' });
    sim.set({ rejectRate: 0, errorRate: 1 });
    expect(await send(s).outcome).toEqual({ kind: 'retryable', error: 'ESME_RSYSERR (0x08)' });
  });

  it('should answer retryable what was in flight when the connection drops, reconnect, and send what comes later', async () => {
    const { sim, address } = await smsc({ latencyMs: 300 });
    const { log, lines } = capturedLog();
    const s = sender(address, { window: 5, log });
    await s.ready();
    const inFlight = Array.from({ length: 5 }, () => send(s));
    await waitFor(() => sim.binds[0]?.unacknowledged === 5, 2_000, '5 submits at the SMSC');
    sim.dropConnections();
    for (const outcome of await outcomes(inFlight)) {
      expect(outcome).toMatchObject({ kind: 'retryable', error: expect.stringContaining('connection lost before submit_sm_resp') });
    }
    await waitFor(() => s.state().state === 'UP' && sim.bound.length === 1, 5_000, 'a new bind');
    sim.set({ latencyMs: 0 });
    expect(kinds(await outcomes([send(s), send(s)]))).toEqual(['sent', 'sent']);
    expect(sim.binds).toHaveLength(2);
    expect(lines.some((l) => l.msg === 'smpp bind down' && l.provider === 'smsc' && l.reason === 'connection lost')).toBe(true);
  });

  it('should answer timeout to a submit the SMSC never answers, then bind anew and send', async () => {
    const { sim, address } = await smsc({ hang: true });
    const s = sender(address, { requestTimeoutMs: 300 });
    await s.ready();
    const hung = send(s);
    await hung.written;
    expect(await hung.outcome).toMatchObject({ kind: 'retryable', error: expect.stringMatching(/^timeout: no submit_sm_resp within 300 ms/) });
    sim.set({ hang: false });
    await waitFor(() => sim.binds.length === 2 && s.state().state === 'UP', 5_000, 'the stuck session to be replaced');
    expect((await send(s).outcome).kind).toBe('sent');
  });
});

describe('SMPP provider: texts', () => {
  it('should send a 100-character Cyrillic text as 2 UCS-2 parts whose headers reassemble it', async () => {
    const { sim, address } = await smsc();
    const s = sender(address);
    await s.ready();
    const text = 'Здравствуйте! Ваша скидка 20% действует до воскресенья. Приходите в любой наш магазин, мы ждём вас! Спасибо'.slice(0, 100);
    expect(text).toHaveLength(100);
    const sending = send(s, text);
    const outcome = await sending.outcome;
    expect(outcome.kind).toBe('sent');
    expect(sim.messages).toEqual([expect.objectContaining({ destination: sending.phone, text, dataCoding: 8, parts: 2, accepted: true, bind: 0 })]);
    const [first, second] = sim.submits;
    expect(first.concatenation).toEqual({ reference: expect.any(Number), total: 2, sequence: 1 });
    expect(second.concatenation).toEqual({ reference: first.concatenation!.reference, total: 2, sequence: 2 });
    expect([first.text.length, second.text.length]).toEqual([67, 33]);
    expect(first.esmClass & 0x40).toBe(0x40);
    // The first part's message_id is the message's.
    expect(outcome).toEqual({ kind: 'sent', providerMessageId: first.messageId });
  });

  it('should send a 161-character GSM text as 2 parts in data_coding 0, an extension character never split', async () => {
    const { sim, address } = await smsc();
    const s = sender(address);
    await s.ready();
    const plain = 'A'.repeat(161);
    // 152 septets, then € (an escape and a character): it goes whole into the second part.
    const extended = `${'b'.repeat(152)}€ and [brackets] {braces} ~ | \\ ^`;
    expect(kinds(await outcomes([send(s, plain), send(s, extended)]))).toEqual(['sent', 'sent']);
    expect(sim.messages.map((m) => ({ text: m.text, dataCoding: m.dataCoding, parts: m.parts }))).toEqual([
      { text: plain, dataCoding: 0, parts: 2 },
      { text: extended, dataCoding: 0, parts: 2 },
    ]);
    expect(sim.submits.map((p) => p.text.length)).toEqual([153, 8, 152, extended.length - 152]);
  });

  it('should carry every GSM 03.38 character, basic and extension, in data_coding 0', async () => {
    const { sim, address } = await smsc();
    const s = sender(address);
    await s.ready();
    const alphabet = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\f^{}\\[~]|€';
    expect((await send(s, alphabet).outcome).kind).toBe('sent');
    expect(sim.messages).toEqual([expect.objectContaining({ text: alphabet, dataCoding: 0, parts: 1 })]);
  });

  it('should send a one-part text without a header', async () => {
    const { sim, address } = await smsc();
    const s = sender(address);
    await s.ready();
    expect((await send(s, 'Привет').outcome).kind).toBe('sent');
    expect(sim.submits).toEqual([expect.objectContaining({ text: 'Привет', dataCoding: 8, concatenation: null, esmClass: 0, source: 'Herald', registeredDelivery: 1 })]);
  });

  it('should ask for a receipt of each message (registered_delivery 1), and for none with receipts: false', async () => {
    const { sim, address } = await smsc({ receipts: true, receiptDelayMs: 0 });
    const asking = sender(address);
    await asking.ready();
    expect((await send(asking, 'A receipt, please').outcome).kind).toBe('sent');
    await vi.waitFor(() => expect(sim.delivers).toEqual([expect.objectContaining({ kind: 'receipt' })]));
    await asking.close();
    const silent = sender(address, { receipts: false });
    await silent.ready();
    expect((await send(silent, 'No receipt, please').outcome).kind).toBe('sent');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sim.submits.map((p) => p.registeredDelivery)).toEqual([1, 0]);
    expect(sim.delivers).toHaveLength(1);
  });

  it('should send every part of a text through one bind, in order, with 2 binds and small windows', async () => {
    const { sim, address } = await smsc({ latencyMs: [5, 40] });
    const s = sender(address, { binds: 2, window: 2 });
    await s.ready();
    const texts = Array.from({ length: 8 }, (_, i) => `${i}: ${'Ю'.repeat(180)}`);
    expect(kinds(await outcomes(texts.map((t) => send(s, t))))).toEqual(Array(8).fill('sent'));
    expect(sim.messages.map((m) => m.text).sort()).toEqual([...texts].sort());
    for (const message of sim.messages) expect(message.bind).not.toBe(-1);
    for (const bind of sim.binds) {
      const sequences = bind.submits.map((p) => p.concatenation!.sequence);
      // parts of a message are written one after another on their bind: 1, 2, 3, 1, 2, 3, …
      expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => (i % 3) + 1));
      expect(bind.maxUnacknowledged).toBeLessThanOrEqual(2);
    }
  });

  it('should answer a multipart text with the failure of the part the SMSC refused', async () => {
    const { sim, address } = await smsc({ forceStatus: smpp.errors.ESME_RINVDSTADR });
    const s = sender(address);
    await s.ready();
    expect(await send(s, 'Ж'.repeat(100)).outcome).toMatchObject({ kind: 'rejected', error: expect.stringMatching(/^part [12] of 2: ESME_RINVDSTADR/) });
    sim.set({ forceStatus: null });
  });
});
