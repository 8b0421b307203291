import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './support/herald';
import { parsePrometheus } from './support/prometheus';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const herald_names = (text: string) => new Set([...text.matchAll(/\b(herald_[a-z_]+|nodejs_[a-z0-9_]+|process_[a-z_]+)\b/g)].map((m) => m[1]));

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald({ role: 'all' });
});
afterAll(() => herald?.stop());

describe('the monitoring that ships with Herald', () => {
  it('should chart and alert on metrics Herald exposes, and list each in docs/operations.md', async () => {
    // Families as /metrics declares them (a gauge with labels has no sample until it has a value).
    const text = await (await fetch(`${herald.url}/metrics`)).text();
    expect(parsePrometheus(text).length).toBeGreaterThan(0);
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const family = (name: string) => (exposed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/herald.json'));
    const exprs = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)).join('\n');
    const alerts = read('deploy/prometheus/alerts.yml');
    for (const [where, text] of [['dashboard', exprs], ['alerts', alerts]] as const) {
      for (const name of herald_names(text)) expect(exposed.has(family(name)), `${where} uses ${name}`).toBe(true);
    }
    for (const alert of ['HeraldGatewayFailing', 'HeraldMailingAtRisk', 'HeraldNoProgress']) expect(alerts).toContain(`alert: ${alert}`);
    const operations = read('docs/operations.md');
    for (const name of [...exposed].filter((n) => n.startsWith('herald_'))) {
      expect(operations, name).toMatch(new RegExp(`^\\| \`${name}\``, 'm'));
    }
  });

  it('should run an api, two workers, Prometheus and Grafana in compose.yaml, each with a healthcheck', () => {
    const compose = read('compose.yaml');
    const services = [...compose.matchAll(/^ {2}([a-z0-9-]+):\s*$/gm)].map((m) => m[1]);
    expect(services).toEqual(expect.arrayContaining(['postgres', 'api', 'worker-1', 'worker-2', 'prometheus', 'grafana']));
    expect(compose).toMatch(/HERALD_ROLE: api/);
    expect(compose.match(/HERALD_ROLE: worker/g)).toHaveLength(2);
    // every long-running service has a healthcheck (Herald's through the shared x-herald block)
    expect(compose.match(/healthcheck:/g)!.length).toBeGreaterThanOrEqual(4);
    const prometheus = read('deploy/prometheus/prometheus.yml');
    for (const target of ['api:4000', 'worker-1:4000', 'worker-2:4000']) expect(prometheus).toContain(target);
    expect(read('deploy/grafana/provisioning/dashboards/herald.yml')).toContain('/var/lib/grafana/dashboards');
  });
});
