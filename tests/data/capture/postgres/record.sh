#!/bin/sh
# Records the golden pgoutput streams in this directory from a PostgreSQL 15 server.
#
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres sh record.sh
#
# The server needs wal_level = logical and logical_decoding_work_mem = 64kB (so that the
# large transactions below are streamed in protocol version 2). The script creates and
# drops a database `trib_golden`. Each output line is `<lsn> <xid> <hex message>`, one
# pgoutput message per line, as returned by pg_logical_slot_peek_binary_changes(); the
# decoder tests replay the messages in order.
set -eu
cd "$(dirname "$0")"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS trib_golden' \
  -c 'CREATE DATABASE trib_golden'
run() { psql -X -q -v ON_ERROR_STOP=1 -d trib_golden "$@"; }

run <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE items (id int PRIMARY KEY, name text, mood mood, big text, price numeric(10,2));
CREATE TABLE full_rows (a int, b text);
ALTER TABLE full_rows REPLICA IDENTITY FULL;
ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE big_rows (id bigint PRIMARY KEY, payload text);
CREATE PUBLICATION golden FOR ALL TABLES;
SELECT FROM pg_create_logical_replication_slot('golden_v1', 'pgoutput');
SELECT FROM pg_create_logical_replication_slot('golden_v2', 'pgoutput');
SQL

run <<'SQL'
INSERT INTO items VALUES (1, 'one', 'ok', repeat('x', 3000), 1.50), (2, NULL, NULL, '', -0.01);
UPDATE items SET name = 'uno' WHERE id = 1;
UPDATE items SET id = 10 WHERE id = 2;
DELETE FROM items WHERE id = 10;
INSERT INTO full_rows VALUES (1, 'a');
UPDATE full_rows SET b = 'b';
DELETE FROM full_rows;
SELECT FROM pg_logical_emit_message(true, 'trib', 'transactional');
SELECT FROM pg_logical_emit_message(false, 'trib', 'not transactional');
TRUNCATE full_rows;
ALTER TABLE items ADD COLUMN added int DEFAULT 7;
INSERT INTO items (id, name) VALUES (3, 'three');
SQL

run <<'SQL'
BEGIN;
INSERT INTO big_rows SELECT g, repeat('p', 150) FROM generate_series(1, 400) g;
SAVEPOINT s1;
INSERT INTO big_rows SELECT g, repeat('r', 150) FROM generate_series(100001, 100300) g;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO big_rows SELECT g, 'kept' FROM generate_series(200001, 200100) g;
COMMIT;
BEGIN;
INSERT INTO big_rows SELECT g, repeat('q', 150) FROM generate_series(300001, 300400) g;
ROLLBACK;
INSERT INTO big_rows VALUES (400000, 'after');
SQL

run -At -F ' ' -c "SELECT lsn, xid, encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes('golden_v1', NULL, NULL, 'proto_version', '1', 'publication_names', 'golden', 'messages', 'true')" > pgoutput_v1.txt
run -At -F ' ' -c "SELECT lsn, xid, encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes('golden_v2', NULL, NULL, 'proto_version', '2', 'publication_names', 'golden', 'messages', 'true', 'streaming', 'on')" > pgoutput_v2_streaming.txt
run -c "SELECT pg_drop_replication_slot('golden_v1'), pg_drop_replication_slot('golden_v2')"
psql -X -q -d postgres -c 'DROP DATABASE trib_golden'
wc -l pgoutput_v1.txt pgoutput_v2_streaming.txt
