import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a PostgreSQL server, to take the network away from
 * Herald without touching the server (so it works on a server other tests share):
 * - `pause()`: a partition. Bytes stop flowing both ways and new connections are accepted
 *   but never reach the server; nothing is closed, so the client hears nothing, as when a
 *   link is cut between two hosts.
 * - `cut()`: connections are reset and new ones refused, as when the server goes away.
 * - `restore()`: traffic flows again; paused connections carry on where they were.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const pairs = new Set<{ client: Socket; server: Socket | null }>();
  let mode: 'open' | 'paused' | 'cut' = 'open';
  const waiting: (() => void)[] = [];

  const server: Server = createServer((client) => {
    if (mode === 'cut') return void client.destroy();
    const pair = { client, server: null as Socket | null };
    pairs.add(pair);
    const forget = () => {
      pairs.delete(pair);
      client.destroy();
      pair.server?.destroy();
    };
    client.on('error', forget).on('close', forget);
    const link = () => {
      if (client.destroyed) return;
      const upstream = connect(target.port, target.host);
      pair.server = upstream;
      upstream.on('error', forget).on('close', forget);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    if (mode === 'paused') {
      client.pause();
      waiting.push(link);
    } else link();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    /** the URL with host and port replaced by the proxy's */
    urlThrough(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    pause(): void {
      mode = 'paused';
      // Unpiped, not only paused: a pipe resumes its source when the other side drains.
      for (const { client, server: upstream } of pairs) {
        if (upstream) {
          client.unpipe(upstream);
          upstream.unpipe(client);
          upstream.pause();
        }
        client.pause();
      }
    },
    cut(): void {
      mode = 'cut';
      for (const { client, server: upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream?.destroy();
      }
      pairs.clear();
    },
    restore(): void {
      mode = 'open';
      for (const { client, server: upstream } of pairs) {
        if (!upstream) continue;
        client.pipe(upstream);
        upstream.pipe(client);
      }
      for (const link of waiting.splice(0)) link();
    },
    async stop(): Promise<void> {
      for (const { client, server: upstream } of pairs) {
        client.destroy();
        upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
