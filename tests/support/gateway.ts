import { GatewaySimulator, type GatewayBehaviour } from '../../src/gateway/simulator';

export const GATEWAY_TOKEN = 'gateway-token-for-tests-0123456';

/** A gateway simulator on a random loopback port, recording what it receives. */
export async function startTestGateway(behaviour: Partial<GatewayBehaviour> = {}) {
  const simulator = new GatewaySimulator({ token: GATEWAY_TOKEN, record: true, behaviour });
  const url = await simulator.start();
  return { simulator, url, config: { senderUrl: url, senderToken: GATEWAY_TOKEN } };
}
