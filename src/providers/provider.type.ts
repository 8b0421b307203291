import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

export const PROVIDER_TYPES = ['HTTP', 'SMPP'] as const;
export const PROVIDER_STATES = ['UP', 'DEGRADED', 'DOWN'] as const;
export type ProviderKind = (typeof PROVIDER_TYPES)[number];
export type ProviderStateName = (typeof PROVIDER_STATES)[number];

export const ProviderType = Object.fromEntries(PROVIDER_TYPES.map((s) => [s, s])) as { [S in ProviderKind]: S };
registerEnumType(ProviderType, { name: 'ProviderType', description: 'HTTP: an HTTP API (the brief\'s gateway contract). SMPP: an SMSC over SMPP 3.4.' });

export const ProviderState = Object.fromEntries(PROVIDER_STATES.map((s) => [s, s])) as { [S in ProviderStateName]: S };
registerEnumType(ProviderState, {
  name: 'ProviderState',
  description:
    'UP: it takes messages. DEGRADED: it takes messages, but not as it should (some SMPP binds down, throttling, its breaker on trial, or some workers see it down). ' +
    'DOWN: it takes none now (refused connections or binds, its breaker open, its token refused); its route\'s next provider takes its messages.',
});

/** A provider as the workers see it (what ProviderValue holds, for GraphQL). */
export type ProviderValue = {
  name: string;
  type: ProviderKind;
  state: ProviderStateName;
  reason: string | null;
  inFlight: number;
  partsPerSecond: number;
  sentPerSecond: number;
  bindsUp: number | null;
  /** the built-in gateway simulator (no provider configured): nothing sent reaches a phone */
  simulated: boolean;
};

/** What one worker process knows of a provider now (the router's snapshot, reported to provider_states; no secret in it). */
export type ProviderSnapshot = Omit<ProviderValue, 'simulated'> & {
  /** SMPP: sessions held open when all are up; null for HTTP */
  binds: number | null;
};

@ObjectType({ description: 'An SMS provider Herald sends through (PROVIDERS_FILE, or SENDER_URL as the one named "default"), as its worker processes see it.' })
export class Provider {
  @Field(() => String) name!: string;
  @Field(() => ProviderType) type!: ProviderKind;
  @Field(() => ProviderState, { description: 'over every worker process: UP when all see it up, DOWN when all see it down' }) state!: ProviderStateName;
  @Field(() => String, { nullable: true, description: 'why it is not UP' }) reason!: string | null;
  @Field(() => Int, { description: 'requests (HTTP) or unacknowledged submit_sm (SMPP) in flight now, over every worker' }) inFlight!: number;
  @Field(() => Float, { description: 'the configured limit for all workers together, in SMS parts per second; 0: none' }) partsPerSecond!: number;
  @Field(() => Float, { description: 'messages it accepted per second, measured over the last seconds, over every worker' }) sentPerSecond!: number;
  @Field(() => Int, { nullable: true, description: 'SMPP: sessions bound now, over every worker; null for HTTP' }) bindsUp!: number | null;
  @Field(() => Boolean, { description: "true: Herald's built-in gateway simulator (no provider is configured); no message sent through it reaches a phone. The console shows a banner while one is." })
  simulated!: boolean;
}
