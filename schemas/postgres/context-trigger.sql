-- walaudit statement context: the contract between `walaudit setup` and the WAL reader.
--
-- `walaudit setup` runs this file as is (packages/pg/src/setup-plan.ts reads it; keep it the only
-- copy), after `CREATE SCHEMA IF NOT EXISTS walaudit`, then attaches the function to every audited
-- table with:
--
--   CREATE TRIGGER walaudit_context
--     BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON <schema>.<table>
--     FOR EACH STATEMENT EXECUTE FUNCTION walaudit.emit_statement_context();
--
-- What it emits: a transactional logical message, prefix `walaudit.stmt`, whose content is a JSON
-- object (DbContext in packages/core/src/change-event.types.ts):
--   user             session_user: the login role, even inside SECURITY DEFINER code
--   ip               host(inet_client_addr()): the client address, null over a Unix socket
--   applicationName  current_setting('application_name'), e.g. 'psql'
--   statement        the client's query string (current_query()), at most 4096 characters; it can
--                    hold several statements when the client sent them as one string
--   statementEnd     only when the query string is longer than 4096 characters: its last 4096,
--                    where an ORM's sqlcommenter comment (`/*user='alice',traceparent='...'*/`)
--                    stands; the reader takes the statement's tags from it (a long
--                    `DELETE ... WHERE id IN (...)` is just the statement whose author matters)
--   backendPid       pg_backend_pid()
--
-- Why BEFORE and FOR EACH STATEMENT: a BEFORE statement trigger's message is written to the WAL
-- ahead of the statement's row changes, so the reader knows the actor before the rows arrive; an
-- AFTER trigger's message would follow them. Statement-level triggers are also the only kind
-- TRUNCATE accepts.
--
-- Why the walaudit.last_context setting: an ON DELETE CASCADE fires the child tables' statement
-- triggers inside the parent's statement, and a function running many statements fires them once
-- each, all with the same context. The md5 of the last payload emitted is kept in a
-- transaction-local setting, and the message is written only when the payload differs from it, so
-- each transaction carries one message per change of context, always before the rows it describes.
-- A rolled-back subtransaction reverts the setting together with its messages.
--
-- Why the walaudit.truncate message: a publication that publishes through the partition root
-- (walaudit setup creates it so) does not send a TRUNCATE naming one partition. On a partition, a
-- TRUNCATE also writes a transactional message, prefix `walaudit.truncate`, content
-- {"schema", "table", "rootSchema", "rootTable"}; the reader records it as a truncate of the
-- partition unless pgoutput's own truncate of the root (or of the partition) follows it, as it does
-- for a TRUNCATE of the partitioned table, which fires every partition's trigger too.
--
-- Why SECURITY DEFINER and the fixed search_path: audited roles need no privilege on the logical
-- message functions, and no object a caller creates can stand in for a pg_catalog function.
-- Why the wal_level test: without logical decoding nobody can read these messages (Postgres would
-- still write them), so the trigger writes nothing then.
CREATE OR REPLACE FUNCTION walaudit.emit_statement_context()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $walaudit$
DECLARE
  payload text;
  query text;
  digest text;
  root oid;
BEGIN
  IF current_setting('wal_level') <> 'logical' THEN
    RETURN NULL;
  END IF;
  query := coalesce(current_query(), '');
  payload := json_build_object(
    'user', session_user,
    'ip', host(inet_client_addr()),
    'applicationName', current_setting('application_name'),
    'statement', left(query, 4096),
    'backendPid', pg_backend_pid()
  )::text;
  IF length(query) > 4096 THEN
    -- Added only then, so that the payload of a short statement is what it always was.
    payload := left(payload, -1) || ', "statementEnd" : ' || to_json(right(query, 4096))::text || '}';
  END IF;
  digest := md5(payload);
  IF current_setting('walaudit.last_context', true) IS DISTINCT FROM digest THEN
    PERFORM pg_logical_emit_message(true, 'walaudit.stmt', payload);
    PERFORM set_config('walaudit.last_context', digest, true);
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    SELECT pg_partition_root(c.oid) INTO root FROM pg_class c WHERE c.oid = TG_RELID AND c.relispartition;
    IF root IS NOT NULL THEN
      PERFORM pg_logical_emit_message(true, 'walaudit.truncate', json_build_object(
        'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME,
        'rootSchema', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = root),
        'rootTable', (SELECT c.relname FROM pg_class c WHERE c.oid = root)
      )::text);
    END IF;
  END IF;
  RETURN NULL;
END
$walaudit$;
