// `npm run gateway`: the gateway simulator on its own, for pointing a Herald at it with
// SENDER_URL/SENDER_TOKEN. Its behaviour can be changed while it runs:
//   curl -XPOST localhost:4010/_sim/behaviour -d '{"errorRate":0.3,"latencyMs":[50,500]}'
//   curl localhost:4010/_sim/stats
import { GatewaySimulator } from '../src/gateway/simulator';

const env = process.env;
const token = env.GATEWAY_TOKEN ?? 'simulator-token';
const latency = (env.GATEWAY_LATENCY_MS ?? '0').split('-').map(Number);
const simulator = new GatewaySimulator({
  token,
  record: env.GATEWAY_RECORD !== 'false',
  behaviour: {
    latencyMs: latency.length === 2 ? [latency[0], latency[1]] : latency[0],
    errorRate: Number(env.GATEWAY_ERROR_RATE ?? 0),
    malformedRate: Number(env.GATEWAY_MALFORMED_RATE ?? 0),
    tailRate: Number(env.GATEWAY_TAIL_RATE ?? 0),
    tailMs: Number(env.GATEWAY_TAIL_MS ?? 0),
  },
});
const url = await simulator.start(Number(env.GATEWAY_PORT ?? 4010), env.GATEWAY_HOST ?? '127.0.0.1');
console.log(`gateway simulator at ${url}  (SENDER_URL=${url} SENDER_TOKEN=<GATEWAY_TOKEN>)`);
console.log(`behaviour: ${JSON.stringify(simulator.current)}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void simulator.stop().then(() => process.exit(0)));
