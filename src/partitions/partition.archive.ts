import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Sql } from 'postgres';
import { csvRecord } from '../export/csv';
import { EXPORT_HEADER, exportRecord, messagesForExport } from '../export/message-export.store';
import type { MessagePartition } from './partition.store';

const BATCH = 1_000;

/** What the archive of one mailing holds: its file, rows and the SHA-256 of its CSV (uncompressed). */
export type ArchivedMailing = { mailingId: number; file: string; rows: number; sha256: string; bytes: number };

/**
 * Writes a partition's messages under `dir`/<partition>/ as one gzipped CSV per mailing, with
 * exactly the export's columns (GET /mailings/{id}/messages.csv), and a manifest.json listing
 * them. Each file is written beside its final name and renamed when complete and synced, then
 * checked: read back through gunzip, its CSV must hash to what was written, and hold as many
 * records as the partition has rows for the mailing; only then may the partition go. Throws
 * when a check fails (the partition then stays, and the next run tries again).
 */
export async function archivePartition(sql: Sql, dir: string, p: MessagePartition, mailings: readonly { mailingId: number; rows: number }[]): Promise<ArchivedMailing[]> {
  const into = path.join(dir, `${p.name}-${p.from}-${p.to}`);
  await mkdir(into, { recursive: true });
  const archived: ArchivedMailing[] = [];
  for (const { mailingId, rows: expected } of mailings) {
    const file = path.join(into, `mailing-${mailingId}-messages.csv.gz`);
    const written = await writeMailing(sql, mailingId, `${file}.part`);
    if (written.rows !== expected) throw new Error(`archive of mailing ${mailingId}: ${written.rows} rows read, the partition holds ${expected}`);
    await rename(`${file}.part`, file);
    const check = await hashGzip(file);
    if (check.sha256 !== written.sha256 || check.bytes !== written.bytes) {
      throw new Error(`archive of mailing ${mailingId}: ${file} reads back as ${check.bytes} bytes (sha256 ${check.sha256}), ${written.bytes} were written (${written.sha256})`);
    }
    archived.push({ mailingId, file: path.basename(file), ...written });
  }
  const manifest = { partition: p.name, mailingIds: { from: p.from, to: p.to }, columns: EXPORT_HEADER, archivedAt: new Date().toISOString(), mailings: archived };
  await writeFile(path.join(into, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return archived;
}

async function writeMailing(sql: Sql, mailingId: number, file: string): Promise<{ rows: number; sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let rows = 0;
  let bytes = 0;
  async function* records() {
    const header = csvRecord(EXPORT_HEADER);
    hash.update(header);
    bytes += Buffer.byteLength(header);
    yield header;
    for await (const batch of messagesForExport(sql, mailingId, BATCH)) {
      let chunk = '';
      for (const m of batch) chunk += exportRecord(m);
      rows += batch.length;
      hash.update(chunk);
      bytes += Buffer.byteLength(chunk);
      yield chunk;
    }
  }
  await pipeline(records, createGzip(), createWriteStream(file));
  // On disk before the partition may go.
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { rows, sha256: hash.digest('hex'), bytes };
}

async function hashGzip(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    createReadStream(file),
    createGunzip(),
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done();
      },
    }),
  );
  return { sha256: hash.digest('hex'), bytes };
}
