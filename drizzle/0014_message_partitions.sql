-- Messages partitioned by ranges of mailing id (issue 22; docs/retention.md): old data leaves
-- by dropping a partition, never by a mass DELETE. Mailing id, not time, is the partition key
-- because "one message per client per mailing" must stay a key of the database, and a key
-- of a partitioned table must hold the partition key: (mailing_id, client_id) does. The
-- partitions after the first are created ahead by src/partitions/ (at start and on its
-- schedule), which also turns a new one on each period by moving the mailings' id sequence to
-- its first id.
--
-- An existing table becomes the first partition as it is, rows and indexes kept (no copy):
-- it takes the mailing ids [1, next mailing id). What costs time is one scan to check that
-- range (under the migration's ACCESS EXCLUSIVE lock on messages: writes and reads of messages
-- wait meanwhile) and one index build, (id, mailing_id), the new primary key; docs/retention.md
-- gives the time measured on a million messages.
DO $$
DECLARE
  next_mailing bigint;
  next_message bigint;
  legacy_rows boolean;
  legacy_max bigint;
BEGIN
  SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END INTO next_mailing FROM mailings_id_seq;
  -- A session caches 1,000 message ids: last_value is the last id any session may hold.
  SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END INTO next_message FROM messages_id_seq;
  SELECT exists (SELECT 1 FROM messages) INTO legacy_rows;
  SELECT max(mailing_id) INTO legacy_max FROM messages;
  next_mailing := greatest(next_mailing, coalesce(legacy_max + 1, 1));

  DROP TRIGGER messages_counted_on_insert ON messages;
  DROP TRIGGER messages_counted_on_update ON messages;
  DROP TRIGGER messages_counted_on_delete ON messages;
  DROP TRIGGER messages_webhooks_on_insert ON messages;
  DROP TRIGGER messages_webhooks_on_update ON messages;

  -- PostgreSQL before 17 has no identity column on a partitioned table: a sequence of its own,
  -- going on where the identity's stopped.
  ALTER TABLE messages ALTER COLUMN id DROP IDENTITY;
  EXECUTE format('CREATE SEQUENCE messages_id_seq START WITH %s CACHE 1000', next_message);
  ALTER TABLE messages ALTER COLUMN id SET DEFAULT nextval('messages_id_seq');

  ALTER TABLE messages RENAME TO messages_p1;
  ALTER TABLE messages_p1 RENAME CONSTRAINT messages_pkey TO messages_p1_pkey_old;
  ALTER TABLE messages_p1 RENAME CONSTRAINT messages_mailing_client_key TO messages_p1_mailing_client_key;
  ALTER INDEX messages_due_idx RENAME TO messages_p1_due_idx;
  ALTER INDEX messages_mailing_status_id_idx RENAME TO messages_p1_mailing_status_id_idx;
  ALTER INDEX messages_pending_client_idx RENAME TO messages_p1_pending_client_idx;
  ALTER INDEX messages_provider_message_idx RENAME TO messages_p1_provider_message_idx;

  CREATE TABLE messages (LIKE messages_p1 INCLUDING DEFAULTS) PARTITION BY RANGE (mailing_id);
  ALTER TABLE messages ADD CONSTRAINT messages_pkey PRIMARY KEY (id, mailing_id);
  ALTER TABLE messages ADD CONSTRAINT messages_mailing_client_key UNIQUE (mailing_id, client_id);
  CREATE INDEX messages_due_idx ON messages USING btree (mailing_id, next_attempt_at, id) WHERE status = 'PENDING';
  CREATE INDEX messages_mailing_status_id_idx ON messages USING btree (mailing_id, status, id);
  CREATE INDEX messages_pending_client_idx ON messages USING btree (client_id) WHERE status = 'PENDING';
  CREATE INDEX messages_provider_message_idx ON messages USING btree (provider, provider_message_id) WHERE provider_message_id IS NOT NULL;
  ALTER SEQUENCE messages_id_seq OWNED BY messages.id;

  IF legacy_rows OR next_mailing > 1 THEN
    -- The primary key's index built beside the old one, then put in its place; the other
    -- indexes and the (mailing, client) key are the parent's as they are.
    CREATE UNIQUE INDEX messages_p1_pkey_new ON messages_p1 (id, mailing_id);
    ALTER TABLE messages_p1 DROP CONSTRAINT messages_p1_pkey_old;
    ALTER TABLE messages_p1 ADD CONSTRAINT messages_p1_pkey PRIMARY KEY USING INDEX messages_p1_pkey_new;
    -- With the range checked once here, ATTACH does not scan the table again.
    EXECUTE format('ALTER TABLE messages_p1 ADD CONSTRAINT messages_p1_range CHECK (mailing_id >= 1 AND mailing_id < %s)', next_mailing);
    EXECUTE format('ALTER TABLE messages ATTACH PARTITION messages_p1 FOR VALUES FROM (1) TO (%s)', next_mailing);
    ALTER TABLE messages_p1 DROP CONSTRAINT messages_p1_range;
  ELSE
    -- A new database: its partitions all come from src/partitions/, the first at start.
    DROP TABLE messages_p1;
  END IF;

  CREATE TRIGGER messages_counted_on_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_inserted();
  CREATE TRIGGER messages_counted_on_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_updated();
  CREATE TRIGGER messages_counted_on_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_deleted();
  CREATE TRIGGER messages_webhooks_on_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_messages();
  CREATE TRIGGER messages_webhooks_on_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_messages();
END $$;
--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "messages_pruned_at" timestamp with time zone;
