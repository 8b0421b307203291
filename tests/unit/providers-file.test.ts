import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProvidersFile, providersFor, ProvidersFileError } from '../../src/providers/providers.file';

/** The example of issue 18, key for key: the contract a deploy writes. */
const EXAMPLE = {
  providers: [
    { name: 'fbrq', type: 'http', url: 'https://probe.fbrq.cloud/v1', token: '${FBRQ_TOKEN}', concurrency: 50, partsPerSecond: 100 },
    { name: 'smsc', type: 'smpp', host: '127.0.0.1', port: 2775, systemId: 'herald', password: '${SMSC_PASSWORD}', sourceAddr: 'Herald', binds: 1, window: 10, partsPerSecond: 200 },
  ],
  routes: [{ operatorCodes: ['916', '917'], providers: ['smsc', 'fbrq'] }, { providers: ['fbrq', 'smsc'] }],
};
const ENV = { FBRQ_TOKEN: 'secret-fbrq-token', SMSC_PASSWORD: 'pw123456' };

const parse = (file: unknown, env: NodeJS.ProcessEnv = ENV) => parseProvidersFile(JSON.stringify(file), env, 'providers.json');
const problem = (file: unknown, env: NodeJS.ProcessEnv = ENV) => {
  try {
    parse(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ProvidersFileError);
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
};
const withProvider = (i: number, patch: Record<string, unknown>) => ({ ...EXAMPLE, providers: EXAMPLE.providers.map((p, j) => (j === i ? { ...p, ...patch } : p)) });

describe('the providers file', () => {
  it('should read the documented example, with secrets from the environment and defaults filled in', () => {
    const { providers, routes } = parse(EXAMPLE);
    expect(providers[0]).toMatchObject({ name: 'fbrq', type: 'http', token: 'secret-fbrq-token', concurrency: 50, partsPerSecond: 100 });
    expect(providers[1]).toMatchObject({ name: 'smsc', type: 'smpp', password: 'pw123456', binds: 1, window: 10, partsPerSecond: 200, tls: false, systemType: '', enquireLinkMs: 30_000 });
    expect(routes).toEqual([{ operatorCodes: ['916', '917'], providers: ['smsc', 'fbrq'] }, { operatorCodes: null, providers: ['fbrq', 'smsc'] }]);
  });

  it('should route by the first route holding the operator code, else the route without codes', () => {
    const { routes } = parse(EXAMPLE);
    expect(providersFor(routes, '916')).toEqual(['smsc', 'fbrq']);
    expect(providersFor(routes, '917')).toEqual(['smsc', 'fbrq']);
    expect(providersFor(routes, '903')).toEqual(['fbrq', 'smsc']);
  });

  it('should refuse, in one line naming the place and never the value, a missing variable, an unknown key, a route to nobody', () => {
    const missing = problem(EXAMPLE, { FBRQ_TOKEN: 'secret-fbrq-token' });
    expect(missing).toBe('providers.json: providers[1].password: ${SMSC_PASSWORD} is not set in the environment');
    expect(problem(withProvider(0, { tokn: 'x' }))).toBe('providers.json: providers[0]: unknown key "tokn"');
    expect(problem({ ...EXAMPLE, routes: [{ providers: ['fbrq', 'nobody'] }] })).toBe('providers.json: routes[0].providers[1]: no provider named "nobody"');
    expect(problem({ ...EXAMPLE, extra: 1 })).toBe('providers.json: unknown key "extra"');
    for (const message of [missing, problem(withProvider(1, { window: 0 }))]) {
      expect(message).not.toContain('secret-fbrq-token');
      expect(message).not.toContain('pw123456');
      expect(message.split('\n')).toHaveLength(1);
    }
  });

  it('should refuse what cannot work: no route for other codes, two providers of one name, bad codes, a window too small for the concurrency', () => {
    expect(problem({ ...EXAMPLE, routes: [EXAMPLE.routes[0]] })).toMatch(/^providers\.json: routes: no route without operatorCodes/);
    expect(problem(withProvider(1, { name: 'fbrq' }))).toBe('providers.json: providers[1].name: a second provider named "fbrq"');
    expect(problem({ ...EXAMPLE, routes: [{ operatorCodes: ['91'], providers: ['fbrq'] }, EXAMPLE.routes[1]] })).toBe('providers.json: routes[0].operatorCodes[0]: must be exactly 3 digits');
    expect(problem(withProvider(1, { concurrency: 11 }))).toMatch(/providers\[1\]\.concurrency: at most binds × window \(10\)/);
    expect(problem(withProvider(0, { type: 'carrier-pigeon' }))).toMatch(/^providers\.json: providers\[0\]\.type: /);
    expect(problem('not an object')).toMatch(/^providers\.json: /);
    expect(() => parseProvidersFile('{', ENV, 'providers.json')).toThrow(/^providers\.json is not JSON/);
  });

  it('should read examples/providers.json as it stands, pointing at what `npm run gateway -- --both` starts', () => {
    const text = readFileSync(new URL('../../examples/providers.json', import.meta.url), 'utf8');
    // No variables in it: the credentials are the simulators' own, so nothing comes from the environment.
    const { providers, routes } = parseProvidersFile(text, {}, 'examples/providers.json');
    expect(providers).toEqual([
      expect.objectContaining({ name: 'gateway', type: 'http', url: 'http://127.0.0.1:4010', token: 'simulator-token', receiptToken: 'simulator-receipt-token' }),
      expect.objectContaining({ name: 'smsc', type: 'smpp', host: '127.0.0.1', port: 2775, systemId: 'herald', password: 'secret' }),
    ]);
    expect(providersFor(routes, '916')).toEqual(['smsc', 'gateway']);
    expect(providersFor(routes, '917')).toEqual(['smsc', 'gateway']);
    expect(providersFor(routes, '903')).toEqual(['gateway']);
  });
});
