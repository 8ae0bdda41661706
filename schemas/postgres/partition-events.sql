-- walaudit partition changes: the contract between `walaudit setup` and the WAL reader for
-- ATTACH PARTITION, DETACH PARTITION, CREATE TABLE ... PARTITION OF and DROP TABLE of a partition.
--
-- Why: pgoutput sends no message for DDL. A partition attached to an audited partitioned table
-- brings rows into it without an INSERT; a detached (or dropped) one takes its rows out of the
-- audit without a DELETE. Both change what the audited table holds, so both are entries in its
-- hash chain.
--
-- `walaudit setup` runs this file as is (packages/pg/src/setup-plan.ts reads it; keep it the only
-- copy) when an audited table is partitioned and the role is a superuser (only a superuser may
-- create event triggers), then:
--
--   CREATE EVENT TRIGGER walaudit_partitions_before ON ddl_command_start
--     WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION walaudit.record_partition_change();
--   CREATE EVENT TRIGGER walaudit_partitions_after ON ddl_command_end
--     WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION walaudit.record_partition_change();
--
-- How: ALTER TABLE's parse tree (which partition, attach or detach) is not readable from PL/pgSQL.
-- So the command's start notes the partitions of every audited partition tree (a tree whose root
-- carries the walaudit_context trigger) in the session setting walaudit.partitions, and its end
-- compares them with the catalog as it is then. The setting is per session, not per transaction:
-- DETACH PARTITION ... CONCURRENTLY commits in between and ends in a second transaction.
--
-- What it emits, per partition that joined or left a tree: a transactional logical message, prefix
-- `walaudit.partition`, whose content is a JSON object:
--   name          'partition.attach' or 'partition.detach'
--   rootSchema    the tree's root, the audited partitioned table: the entry is recorded under it
--   rootTable
--   partition     the partition, `schema.table`
--   parent        its direct parent, `schema.table` (the root, unless partitions are nested)
--   bounds        its partition bound (pg_get_expr of relpartbound), e.g. FOR VALUES IN ('eu')
--   command       the command tag: ALTER TABLE, CREATE TABLE or DROP TABLE
--   dropped       true when the partition was dropped with its rows (DROP TABLE)
--   publications  the publications that publish the root: each walaudit reader keeps only the
--                 messages its own publication names
-- preceded, like a row change, by the statement context message (`walaudit.stmt`, see
-- context-trigger.sql) when it differs from the last one the transaction carries.
--
-- Why a failure only warns: an event trigger that raises fails the DBA's DDL. A partition change
-- that could not be recorded is said in a WARNING (and the server log) instead.
CREATE OR REPLACE FUNCTION walaudit.record_partition_change()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $walaudit$
DECLARE
  before_tree text;
  payload text;
  digest text;
  change record;
BEGIN
  IF current_setting('wal_level') <> 'logical' THEN
    RETURN;
  END IF;
  BEGIN
    IF TG_EVENT = 'ddl_command_start' THEN
      PERFORM set_config('walaudit.partitions', (
        SELECT coalesce(json_agg(json_build_object('oid', i.inhrelid::bigint, 'parent', i.inhparent::bigint)), '[]')::text
          FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent AND p.relkind = 'p'
         WHERE EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = pg_partition_root(i.inhparent) AND t.tgname = 'walaudit_context' AND NOT t.tgisinternal)
      ), false);
      -- Names are read at the end from the catalog, except for partitions dropped meanwhile:
      -- those are kept here by oid.
      PERFORM set_config('walaudit.partition_names', (
        SELECT coalesce(json_object_agg(i.inhrelid::bigint, json_build_object(
                 'partition', format('%s.%s', cn.nspname, c.relname),
                 'parent', format('%s.%s', pn.nspname, p.relname),
                 'rootSchema', rn.nspname, 'rootTable', r.relname,
                 'bounds', pg_get_expr(c.relpartbound, c.oid),
                 'publications', (SELECT coalesce(json_agg(DISTINCT pt.pubname), '[]') FROM pg_publication_tables pt WHERE pt.schemaname = rn.nspname AND pt.tablename = r.relname))), '{}')::text
          FROM pg_inherits i
          JOIN pg_class p ON p.oid = i.inhparent AND p.relkind = 'p' JOIN pg_namespace pn ON pn.oid = p.relnamespace
          JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
          JOIN pg_class r ON r.oid = pg_partition_root(i.inhparent) JOIN pg_namespace rn ON rn.oid = r.relnamespace
         WHERE EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = r.oid AND t.tgname = 'walaudit_context' AND NOT t.tgisinternal)
      ), false);
      RETURN;
    END IF;

    before_tree := current_setting('walaudit.partitions', true);
    PERFORM set_config('walaudit.partitions', '', false);
    IF before_tree IS NULL OR before_tree = '' THEN
      RETURN; -- no start seen for this command: nothing to compare with
    END IF;
    FOR change IN
      WITH was AS (
        SELECT b.oid, b.parent FROM json_to_recordset(before_tree::json) AS b(oid bigint, parent bigint)
      ), now AS (
        SELECT i.inhrelid::bigint AS oid, i.inhparent::bigint AS parent
          FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent AND p.relkind = 'p'
         WHERE NOT i.inhdetachpending
           AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = pg_partition_root(i.inhparent) AND t.tgname = 'walaudit_context' AND NOT t.tgisinternal)
      ), names AS (
        SELECT n.key::bigint AS oid, n.value AS detail FROM json_each(coalesce(nullif(current_setting('walaudit.partition_names', true), ''), '{}')::json) AS n
      )
      SELECT 'partition.attach' AS name, now.oid, false AS dropped,
             json_build_object(
               'partition', format('%s.%s', cn.nspname, c.relname),
               'parent', format('%s.%s', pn.nspname, p.relname),
               'rootSchema', rn.nspname, 'rootTable', r.relname,
               'bounds', pg_get_expr(c.relpartbound, c.oid),
               'publications', (SELECT coalesce(json_agg(DISTINCT pt.pubname), '[]') FROM pg_publication_tables pt WHERE pt.schemaname = rn.nspname AND pt.tablename = r.relname)) AS detail
        FROM now
        JOIN pg_class c ON c.oid = now.oid JOIN pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_class p ON p.oid = now.parent JOIN pg_namespace pn ON pn.oid = p.relnamespace
        JOIN pg_class r ON r.oid = pg_partition_root(now.parent) JOIN pg_namespace rn ON rn.oid = r.relnamespace
       WHERE NOT EXISTS (SELECT 1 FROM was WHERE was.oid = now.oid AND was.parent = now.parent)
      UNION ALL
      SELECT 'partition.detach', was.oid, NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = was.oid), names.detail
        FROM was JOIN names ON names.oid = was.oid
       WHERE NOT EXISTS (SELECT 1 FROM now WHERE now.oid = was.oid AND now.parent = was.parent)
      ORDER BY 1 DESC, 2
    LOOP
      IF change.detail IS NULL THEN
        CONTINUE;
      END IF;
      payload := json_build_object(
        'user', session_user,
        'ip', host(inet_client_addr()),
        'applicationName', current_setting('application_name'),
        'statement', left(coalesce(current_query(), ''), 4096),
        'backendPid', pg_backend_pid()
      )::text;
      digest := md5(payload);
      IF current_setting('walaudit.last_context', true) IS DISTINCT FROM digest THEN
        PERFORM pg_logical_emit_message(true, 'walaudit.stmt', payload);
        PERFORM set_config('walaudit.last_context', digest, true);
      END IF;
      PERFORM pg_logical_emit_message(true, 'walaudit.partition', (
        jsonb_build_object('name', change.name, 'command', TG_TAG) || change.detail::jsonb
          || CASE WHEN change.dropped THEN jsonb_build_object('dropped', true) ELSE '{}'::jsonb END
      )::text);
    END LOOP;
    PERFORM set_config('walaudit.partition_names', '', false);
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'walaudit could not record a partition change of this %: %', TG_TAG, SQLERRM;
  END;
END
$walaudit$;
