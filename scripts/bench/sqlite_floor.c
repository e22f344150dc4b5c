// What SQLite alone costs for the statements one store runs on the durable default (record, full-text
// row, count, outbox event, vector row), in transactions of B stores at synchronous=FULL, from one
// thread as the service's writer does: the ceiling for store throughput before HTTP, JSON, embedding
// and graph insertion. Run by scripts/bench/sqlite_floor.sh against a copy of a loaded data file.
// Usage: sqlite_floor DATABASE STORES BATCH
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement;
    check(sqlite3_prepare_v2(db, sql, -1, &statement, NULL), db, sql);
    return statement;
}

static void run(sqlite3 *db, sqlite3_stmt *statement) {
    while (sqlite3_step(statement) == SQLITE_ROW) {}
    check(sqlite3_reset(statement), db, sqlite3_sql(statement));
}

static double seconds(clockid_t clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s DATABASE STORES BATCH\n", argv[0]); return 2; }
    int stores = atoi(argv[2]), batch = atoi(argv[3]);
    sqlite3 *db;
    check(sqlite3_open(argv[1], &db), db, "open");
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL), db, "pragmas");
    sqlite3_stmt *begin = prepare(db, "BEGIN IMMEDIATE"), *commit = prepare(db, "COMMIT");
    sqlite3_stmt *fetch = prepare(db, "SELECT * FROM memories WHERE id = ?");
    sqlite3_stmt *insert = prepare(db,
        "INSERT INTO memories(id, namespace, coord, coordinate, dims, c0, type, payload, importance, created_at, updated_at, version, expires_at, embedding_model)"
        " VALUES (?, 'api', ?, ?, 3, ?, 'episodic', ?, 0.5, 1, 1, 1, NULL, 'hash-384')");
    sqlite3_stmt *rowid = prepare(db, "SELECT rowid FROM memories WHERE id = ?");
    sqlite3_stmt *text = prepare(db, "INSERT INTO memory_text(rowid, text) VALUES (?, ?)");
    sqlite3_stmt *count = prepare(db,
        "INSERT INTO counts(namespace, type, total) VALUES ('api', 'episodic', 1) ON CONFLICT(namespace, type) DO UPDATE SET total = total + excluded.total");
    sqlite3_stmt *event = prepare(db, "INSERT INTO outbox(namespace, event) VALUES ('api', ?)");
    sqlite3_stmt *vector = prepare(db,
        "INSERT OR REPLACE INTO vectors(id, namespace, type, version, payload, label, vector) VALUES (?, 'api', 'episodic', 1, ?, ?, ?)");
    float embedding[384];
    for (int i = 0; i < 384; i++) embedding[i] = (float)rand() / RAND_MAX;
    srand(7);
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int done = 0; done < stores;) {
        run(db, begin);
        for (int i = 0; i < batch && done < stores; i++, done++) {
            char id[37], coord[64], coordinate[70], payload[128], words[96], envelope[512];
            snprintf(id, sizeof id, "%08x-%04x-4%03x-8%03x-%04x%08x", rand(), rand() & 0xffff, rand() & 0xfff, rand() & 0xfff, rand() & 0xffff, rand());
            snprintf(coord, sizeof coord, "%d,%d,7", done, rand() % 1000000);
            snprintf(coordinate, sizeof coordinate, "[%s]", coord);
            snprintf(words, sizeof words, "bench memory %d about topic %d", done, done % 97);
            snprintf(payload, sizeof payload, "{\"text\":\"%s\"}", words);
            snprintf(envelope, sizeof envelope, "{\"event_id\":\"%s\",\"id\":\"%s\",\"namespace\":\"api\",\"kind\":\"created\",\"type\":\"episodic\",\"version\":1,\"timestamp\":\"2026-11-30T07:00:00Z\",\"payload\":%s}", id, id, payload);
            sqlite3_bind_text(fetch, 1, id, -1, SQLITE_STATIC);
            run(db, fetch);
            sqlite3_bind_text(insert, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 2, coord, -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 3, coordinate, -1, SQLITE_STATIC);
            sqlite3_bind_double(insert, 4, done);
            sqlite3_bind_text(insert, 5, payload, -1, SQLITE_STATIC);
            run(db, insert);
            sqlite3_bind_text(rowid, 1, id, -1, SQLITE_STATIC);
            sqlite3_step(rowid);
            sqlite3_int64 row = sqlite3_column_int64(rowid, 0);
            check(sqlite3_reset(rowid), db, "rowid");
            sqlite3_bind_int64(text, 1, row);
            sqlite3_bind_text(text, 2, words, -1, SQLITE_STATIC);
            run(db, text);
            run(db, count);
            sqlite3_bind_text(event, 1, envelope, -1, SQLITE_STATIC);
            run(db, event);
            sqlite3_bind_text(vector, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(vector, 2, payload, -1, SQLITE_STATIC);
            sqlite3_bind_int64(vector, 3, 50000000 + done);
            sqlite3_bind_blob(vector, 4, embedding, sizeof embedding, SQLITE_STATIC);
            run(db, vector);
        }
        run(db, commit);
    }
    wall = seconds(CLOCK_MONOTONIC) - wall;
    cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    printf("batch %d: %.0f stores/s, %.3f ms wall and %.3f ms CPU per store\n", batch, stores / wall, wall / stores * 1000, cpu / stores * 1000);
    sqlite3_close(db);
    return 0;
}
