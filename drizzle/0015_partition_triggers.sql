-- The counters' and webhooks' statement triggers on each partition too (docs/retention.md).
-- A batch of results is updated in its partition by name (src/messages/message.store.ts), so
-- that the statement is planned over one table, not every partition. PostgreSQL fires a
-- statement trigger of the table a statement names only: those on messages for a statement
-- on messages, these for one on the partition; never both for one statement.
CREATE OR REPLACE FUNCTION herald_partition_triggers(part regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t text := (SELECT relname FROM pg_class WHERE oid = part);
BEGIN
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_inserted()', t || '_counted_on_insert', t);
  EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_updated()', t || '_counted_on_update', t);
  EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_deleted()', t || '_counted_on_delete', t);
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_messages()', t || '_webhooks_on_insert', t);
  EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_messages()', t || '_webhooks_on_update', t);
END $$;
--> statement-breakpoint
SELECT herald_partition_triggers(i.inhrelid::regclass)
FROM pg_inherits i
WHERE i.inhparent = 'messages'::regclass;
