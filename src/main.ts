import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevAdminToken, TokenRegistry } from './auth/tokens';
import { ConfigError, loadConfig, type Config } from './config';
import { connectDatabase } from './db/connection';
import { startEmbeddedPostgres } from './db/embedded';
import { isMigrated, migrateDatabase } from './db/migrate';
import { buildHeraldSchema } from './graphql/schema';
import { createHttpServer } from './graphql/server';
import { createLogger, type Logger } from './logger';

export type Herald = {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  stop: () => Promise<void>;
};

type Stoppable = { name: string; stop: () => Promise<void> };

/**
 * Wires Herald together and starts it; the only place that does. Whatever started is
 * stopped in reverse order, once, by `stop()` (or at once if a later step fails).
 */
export async function startHerald(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Herald> {
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const part of started.splice(0).reverse()) {
      try {
        await part.stop();
        log.info({ part: part.name }, 'stopped');
      } catch (err) {
        log.error({ err, part: part.name }, 'failed to stop cleanly');
      }
    }
  };

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log });
      started.push({ name: 'embedded PostgreSQL', stop: embedded.stop });
      databaseUrl = embedded.url;
    }
    await migrateDatabase(databaseUrl);
    log.info('database migrated');
    const { db, close } = connectDatabase(databaseUrl);
    started.push({ name: 'database pool', stop: close });

    const tokens = new TokenRegistry(config.apiTokens ?? (await devAdminToken(config, log)));
    const http = await createHttpServer({
      schema: await buildHeraldSchema(),
      db,
      tokens,
      log,
      maxDepth: config.graphqlMaxDepth,
      readiness: { database: async () => ((await isMigrated(db)) ? null : 'migrations not applied') },
    });
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(config.port, config.host, resolve);
    });
    started.push({ name: 'http server', stop: http.stop });
    const { port } = http.server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log.info({ url: `${url}/graphql` }, 'Herald is listening');

    let stopping: Promise<void> | undefined;
    return { url, stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Without API_TOKENS (never in production: config refuses), one admin token kept on disk. */
async function devAdminToken(config: Config, log: Logger) {
  const { token, file } = await ensureDevAdminToken(config.dataDir);
  log.warn({ file }, 'API_TOKENS is not set: using the development admin token kept in this file');
  // Printed for the person at the terminal, once, without the token itself.
  process.stderr.write(
    `\nNo API_TOKENS set: Herald made an admin token for development and keeps it in ${file}\n` +
      `Use it as:  curl -H "Authorization: Bearer $(cat ${path.relative(process.cwd(), file)})" ...\n\n`,
  );
  return [{ role: 'admin' as const, token }];
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Herald cannot start: ${error.message}\n`);
    process.exit(1);
  }
  const log = createLogger(config.logLevel);
  let herald: Herald;
  try {
    herald = await startHerald(config, log);
  } catch (err) {
    log.fatal({ err }, 'Herald failed to start');
    process.exit(1);
  }
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) return; // shutdown is under way; a second signal does not cut it short
      signalled = true;
      log.info({ signal }, 'shutting down');
      herald.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
