// `npm run gateway [-- --smpp | --both]`: the simulated providers on their own, for pointing a
// Herald at them. By default the HTTP gateway simulator (SENDER_URL/SENDER_TOKEN, or an `http`
// provider of PROVIDERS_FILE); `--smpp` the SMPP simulator (an SMSC) alone; `--both` the two,
// as examples/providers.json expects them. Each one's behaviour can be changed while it runs:
//   HTTP, on its own port:   curl -XPOST localhost:4010/_sim/behaviour -d '{"errorRate":0.3,"latencyMs":[50,500]}'
//                            curl localhost:4010/_sim/stats
//   SMPP, on a control port of its own (SMPP_CONTROL_PORT, 4011), in either mode, so that the
//   two simulators keep one shape each and the HTTP one knows nothing of the other:
//                            curl -XPOST localhost:4011/_sim/behaviour -d '{"errorRate":0.1,"latencyMs":[5,50]}'
//                            curl localhost:4011/_sim/stats
//                            curl -XPOST localhost:4011/_sim/reset      (forget the counts)
//                            curl -XPOST localhost:4011/_sim/drop       (break every connection)
//                            curl -XPOST localhost:4011/_sim/unbind     (ask every session to unbind)
// Receipts and replies (both simulators): `--delivered-rate=0.9` (share delivered; the rest
// undelivered, expired or rejected), `--receipt-delay=200-2000` (ms), `--no-receipts`, and for
// SMPP `--receipt-per-part`. The HTTP one posts receipts only when it knows where:
// GATEWAY_RECEIPTS_URL (http://127.0.0.1:4000/providers/default/receipts), GATEWAY_INBOUND_URL
// and GATEWAY_RECEIPT_TOKEN (the provider's receiptToken). A reply from a phone:
//                            curl -XPOST localhost:4010/_sim/reply -d '{"from":"79001234567","text":"STOP"}'
//                            curl -XPOST localhost:4011/_sim/reply -d '{"from":"79001234567","text":"STOP"}'
// The variables are in docs/development.md.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewaySimulator } from '../src/gateway/simulator';
import { parseDelay, receiptProblem, type ReceiptBehaviour } from '../src/gateway/simulator.receipts';
import { SmppSimulator, type SmscBehaviour } from '../src/providers/smpp.simulator';

const env = process.env;
const args = process.argv.slice(2);
const mode = args.includes('--both') ? 'both' : args.includes('--smpp') ? 'smpp' : 'http';
/** `50` or `50-500` (a uniform range) */
const latencyOf = (value: string | undefined): number | [number, number] => {
  const [min, max] = (value ?? '0').split('-').map(Number);
  return max === undefined ? min : [min, max];
};
const stops: (() => Promise<void>)[] = [];
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** the receipt options both simulators take from the command line */
const receiptOptions: Partial<ReceiptBehaviour> = {};
if (flag('delivered-rate') !== undefined) receiptOptions.deliveredRate = Number(flag('delivered-rate'));
if (flag('receipt-delay') !== undefined) receiptOptions.receiptDelayMs = parseDelay(flag('receipt-delay')!) ?? (NaN as never);
const receiptsProblem = receiptProblem(receiptOptions);
if (receiptsProblem) {
  console.error(`gateway: ${receiptsProblem}`);
  process.exit(2);
}
const noReceipts = args.includes('--no-receipts');

if (mode !== 'smpp') {
  const token = env.GATEWAY_TOKEN ?? 'simulator-token';
  const receiptsUrl = env.GATEWAY_RECEIPTS_URL || undefined;
  const simulator = new GatewaySimulator({
    token,
    record: env.GATEWAY_RECORD !== 'false',
    receiptsUrl,
    inboundUrl: env.GATEWAY_INBOUND_URL || undefined,
    receiptToken: env.GATEWAY_RECEIPT_TOKEN || 'simulator-receipt-token',
    behaviour: {
      ...receiptOptions,
      receipts: receiptsUrl !== undefined && !noReceipts,
      latencyMs: latencyOf(env.GATEWAY_LATENCY_MS),
      errorRate: Number(env.GATEWAY_ERROR_RATE ?? 0),
      malformedRate: Number(env.GATEWAY_MALFORMED_RATE ?? 0),
      tailRate: Number(env.GATEWAY_TAIL_RATE ?? 0),
      tailMs: Number(env.GATEWAY_TAIL_MS ?? 0),
    },
  });
  const url = await simulator.start(Number(env.GATEWAY_PORT ?? 4010), env.GATEWAY_HOST ?? '127.0.0.1');
  stops.push(() => simulator.stop());
  console.log(`gateway simulator at ${url}  (SENDER_URL=${url} SENDER_TOKEN=<GATEWAY_TOKEN>)`);
  console.log(`behaviour: ${JSON.stringify(simulator.current)}`);
  console.log(receiptsUrl ? `receipts to ${receiptsUrl}` : 'no receipts (GATEWAY_RECEIPTS_URL unset)');
}

if (mode !== 'http') {
  const host = env.SMPP_HOST ?? '127.0.0.1';
  const systemId = env.SMPP_SYSTEM_ID ?? 'herald';
  const nullable = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));
  const simulator = new SmppSimulator({
    systemId,
    password: env.SMPP_PASSWORD ?? 'secret',
    record: env.SMPP_RECORD !== 'false',
    behaviour: {
      ...receiptOptions,
      receipts: !noReceipts,
      receiptPerPart: args.includes('--receipt-per-part'),
      latencyMs: latencyOf(env.SMPP_LATENCY_MS),
      errorRate: Number(env.SMPP_ERROR_RATE ?? 0),
      rejectRate: Number(env.SMPP_REJECT_RATE ?? 0),
      tailRate: Number(env.SMPP_TAIL_RATE ?? 0),
      tailMs: Number(env.SMPP_TAIL_MS ?? 0),
      throttleAbovePerSecond: nullable(env.SMPP_THROTTLE_PER_SECOND),
      maxBinds: nullable(env.SMPP_MAX_BINDS),
    },
  });
  const { port } = await simulator.start(Number(env.SMPP_PORT ?? 2775), host);
  const control = createServer((req, res) => void smppControl(simulator, req, res));
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(Number(env.SMPP_CONTROL_PORT ?? 4011), host, resolve);
  });
  stops.push(async () => {
    await new Promise<void>((resolve) => control.close(() => resolve()));
    await simulator.stop();
  });
  console.log(`smpp simulator at smpp://${host}:${port}  (system_id ${systemId}, password <SMPP_PASSWORD>), control at http://${host}:${(control.address() as AddressInfo).port}/_sim/`);
  console.log(`smpp behaviour: ${JSON.stringify(simulator.current)}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.all(stops.map((stop) => stop())).then(() => process.exit(0)));
}

/** The SMPP simulator's control API: its behaviour, its counts, and what an SMSC can do to its sessions. */
async function smppControl(simulator: SmppSimulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const route = `${req.method} ${req.url}`;
  if (route === 'GET /_sim/stats') {
    return reply(200, {
      submits: simulator.submitCount,
      accepted: simulator.acceptedCount,
      destinations: simulator.destinations.size,
      firstSubmitAt: simulator.firstSubmitAt,
      connections: simulator.connectionCount,
      bindAttempts: simulator.bindAttempts,
      refusedBinds: simulator.refusedBinds,
      bound: simulator.bound.length,
      receipts: { ...simulator.receiptOutcomes, answered: simulator.deliversAnswered, givenUp: simulator.deliversFailed },
      binds: simulator.binds.map((b) => ({ index: b.index, systemId: b.systemId, unacknowledged: b.unacknowledged, maxUnacknowledged: b.maxUnacknowledged, closed: b.closedAt !== null })),
      behaviour: simulator.current,
    });
  }
  if (route === 'GET /_sim/received') return reply(200, simulator.messages.slice(-1000));
  const readBody = () =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString()));
      req.on('error', () => resolve(''));
    });
  if (route === 'POST /_sim/reply') {
    const problem = 'body must be {"from": "7XXXXXXXXXX", "text": "…", "to"?: "<destination_addr>"}';
    let body: { from?: unknown; text?: unknown; to?: unknown } | null;
    try {
      body = JSON.parse(await readBody());
    } catch {
      body = null;
    }
    const from = typeof body?.from === 'number' ? String(body.from) : body?.from;
    if (typeof from !== 'string' || !/^\d{1,20}$/.test(from) || typeof body?.text !== 'string' || body.text.length === 0 || (body.to !== undefined && typeof body.to !== 'string')) {
      return reply(400, { message: problem });
    }
    if (simulator.bound.length === 0) return reply(409, { message: 'no session is bound: nobody to deliver the reply to' });
    const status = await simulator.reply(from, body.text, body.to as string | undefined);
    return reply(status === null ? 504 : 200, { deliverSmRespStatus: status });
  }
  if (route === 'POST /_sim/behaviour') {
    const body = await readBody();
    let change: unknown;
    try {
      change = JSON.parse(body);
    } catch {
      change = null;
    }
    if (change === null || typeof change !== 'object' || Array.isArray(change)) return reply(400, { message: 'body must be a JSON object of behaviour fields' });
    const unknown = Object.keys(change).filter((k) => !(k in simulator.current));
    if (unknown.length > 0) return reply(400, { message: `unknown behaviour field ${unknown.map((k) => `"${k}"`).join(', ')}` });
    const problem = receiptProblem(change as Partial<ReceiptBehaviour>);
    if (problem) return reply(400, { message: problem });
    simulator.set(change as Partial<SmscBehaviour>);
    return reply(200, simulator.current);
  }
  const actions: Record<string, () => unknown> = {
    'POST /_sim/reset': () => simulator.resetCounts(),
    'POST /_sim/drop': () => simulator.dropConnections(),
    'POST /_sim/unbind': () => simulator.unbindAll(),
  };
  const action = actions[route];
  if (!action) return reply(404, { message: 'not found' });
  action();
  reply(200, { done: route.slice(5) });
}
