import { useQuery } from '@apollo/client/react';
import { PROVIDERS } from './operations';

/**
 * Said on every page while Herald sends to its built-in gateway simulator (no provider is
 * configured; `Provider.simulated` says so): nothing sent reaches a phone, and its controls
 * are at /_sim/* on Herald's port (docs/development.md). The same query as the providers
 * panel, so one cache entry serves both and its subscription keeps this one current.
 */
export function SimulatorBanner() {
  const { data } = useQuery(PROVIDERS);
  const simulated = data?.providers.filter((p) => p.simulated) ?? [];
  if (simulated.length === 0) return null;
  return (
    <div className="simulator-banner" role="status" data-testid="simulator-banner">
      <strong>Simulator:</strong> messages go to Herald's built-in gateway simulator ({simulated.map((p) => p.name).join(', ')}); none reaches a phone.
      {' '}Its controls: <a href="/_sim/stats" target="_blank" rel="noreferrer"><code>/_sim/stats</code></a>; start Herald with{' '}
      <code>SENDER_SIMULATOR_MODE=flaky</code> for a gateway that is slow, fails and goes down.
    </div>
  );
}
