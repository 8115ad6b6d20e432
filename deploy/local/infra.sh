#!/usr/bin/env bash
# Local infrastructure on loopback, no Docker: Apache Kafka (KRaft), MinIO (S3), PostgreSQL (the
# system of record, Debian's package), ClamAV, Keycloak (the identity provider). Usage: infra.sh
# up|down|status, or infra.sh stop|kill|start SERVER (one of kafka, minio, postgres, clamd,
# keycloak: what the outage tests do to a running stack).
#
# Builds and downloads go to the tools' own caches (~/.m2, Go's module and build caches), so a
# fresh clone on a used machine only re-links; the binaries, data and logs go to .local/ (ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOCAL=${AAP_LOCAL_DIR:-$ROOT/.local}
BIN=$LOCAL/bin
DATA=$LOCAL/data
LOGS=$LOCAL/logs
RUN=$LOCAL/run
HERE=$ROOT/deploy/local

KAFKA_PORT=${AAP_LOCAL_KAFKA_PORT:-19092}
CONTROLLER_PORT=${AAP_LOCAL_KAFKA_CONTROLLER_PORT:-19093}
MINIO_PORT=${AAP_LOCAL_MINIO_PORT:-19000}
POSTGRES_PORT=${AAP_LOCAL_POSTGRES_PORT:-15432}
CLAMD_PORT=${AAP_LOCAL_CLAMD_PORT:-13310}
KEYCLOAK_PORT=${AAP_LOCAL_KEYCLOAK_PORT:-18080}
KEYCLOAK_VERSION=${AAP_KEYCLOAK_VERSION:-26.0.7}  # 26.0.x runs on Java 17
MINIO_VERSION=${AAP_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}

say() { printf '[infra] %s\n' "$*" >&2; }
devkit() { # a devkit command, with the workspace's interpreter (also when run from a test,
  # whose PATH leads `python3` to that interpreter, which has no uv module)
  if [[ -x $ROOT/.venv/bin/python ]]; then (cd "$ROOT" && .venv/bin/python -m "$@")
  else (cd "$ROOT" && python3 -m uv run --frozen python -m "$@"); fi
}
local_secret() { devkit devkit.kafka_access "$1"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port pidfile seconds
  local i
  for ((i = 0; i < $4 * 5; i++)); do
    port_open "$2" && return 0
    if [[ -f $3 ]] && ! kill -0 "$(cat "$3")" 2>/dev/null; then
      say "$1 exited during start-up; last lines of $LOGS/$1.log:"; tail -n 30 "$LOGS/$1.log" >&2; return 1
    fi
    sleep 0.2
  done
  say "$1 did not answer on port $2 within $4 s; see $LOGS/$1.log"; return 1
}

build_kafka() {
  [[ -s $LOCAL/kafka/classpath.txt ]] && return 0
  say "resolving the Kafka broker from Maven Central (kept in ~/.m2)"
  mkdir -p "$LOCAL/kafka"
  mvn -q -B -f "$HERE/kafka/pom.xml" dependency:build-classpath \
    -Dmdep.outputFile="$LOCAL/kafka/classpath.txt" >"$LOGS/maven.log" 2>&1 \
    || { say "Maven failed; see $LOGS/maven.log"; tail -n 20 "$LOGS/maven.log" >&2; return 1; }
}

build_minio() {
  [[ -x $BIN/minio ]] && return 0
  say "building MinIO with go install (Go caches keep it fast next time)"
  GOBIN=$BIN go install "github.com/minio/minio@$MINIO_VERSION" >"$LOGS/minio-build.log" 2>&1 \
    || { say "go install minio failed; see $LOGS/minio-build.log"; tail -n 20 "$LOGS/minio-build.log" >&2; return 1; }
}

# The certificates' layout: change it to make them again in an existing .local/.
KAFKA_TLS_LAYOUT="controller-mtls-1"

kafka_tls() { # a local CA, the broker's certificate for 127.0.0.1 and the admin's, made once
  local tls=$LOCAL/kafka/tls pass=$1
  [[ -s $tls/admin.p12 && $(cat "$tls/layout" 2>/dev/null) == "$KAFKA_TLS_LAYOUT" ]] && return 0
  say "making a local CA, the broker's TLS certificate and the admin's ($tls)"
  rm -rf "$tls" && mkdir -p "$tls"
  local k=(keytool -storetype PKCS12 -storepass "$pass" -keypass "$pass")
  "${k[@]}" -genkeypair -alias ca -keyalg RSA -keysize 3072 -validity 3650 -dname "CN=AAP local CA" \
    -ext bc:c -ext ku:c=keyCertSign,cRLSign -keystore "$tls/ca.p12" >/dev/null 2>&1
  "${k[@]}" -exportcert -rfc -alias ca -keystore "$tls/ca.p12" >"$tls/ca.pem" 2>/dev/null
  "${k[@]}" -importcert -noprompt -alias ca -file "$tls/ca.pem" -keystore "$tls/truststore.p12" >/dev/null 2>&1
  # The broker serves TLS on both listeners and, in combined mode, is itself a client of the
  # controller listener, which asks for a client certificate: it proves itself for both.
  kafka_certificate broker kafka-broker "$pass" serverAuth,clientAuth -ext SAN=IP:127.0.0.1
  # The admin's client certificate, for the controller listener (its SCRAM password is for the
  # broker's): the only principal besides the broker's that may change ACLs there.
  kafka_certificate admin admin "$pass" clientAuth
  [[ -s $tls/broker.pem && -s $tls/admin.pem ]] || { say "keytool failed to make the certificates"; return 1; }
  echo "$KAFKA_TLS_LAYOUT" >"$tls/layout"
}

kafka_certificate() { # name common-name store-password extended-key-usage [keytool -ext …]
  local tls=$LOCAL/kafka/tls name=$1 cn=$2 pass=$3 eku=$4; shift 4
  local k=(keytool -storetype PKCS12 -storepass "$pass" -keypass "$pass")
  "${k[@]}" -genkeypair -alias "$name" -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=$cn" \
    -keystore "$tls/$name.p12" >/dev/null 2>&1
  "${k[@]}" -certreq -alias "$name" -keystore "$tls/$name.p12" 2>/dev/null \
    | "${k[@]}" -gencert -alias ca -keystore "$tls/ca.p12" -rfc -validity 3650 "$@" \
      -ext ku:c=digitalSignature,keyEncipherment -ext "eku=$eku" >"$tls/$name.pem" 2>/dev/null
  "${k[@]}" -importcert -noprompt -alias ca -file "$tls/ca.pem" -keystore "$tls/$name.p12" >/dev/null 2>&1
  "${k[@]}" -importcert -noprompt -alias "$name" -file "$tls/$name.pem" -keystore "$tls/$name.p12" >/dev/null 2>&1
}

start_kafka() {
  port_open "$KAFKA_PORT" && { say "Kafka already answers on $KAFKA_PORT"; return 0; }
  local dir=$DATA/kafka conf=$LOCAL/kafka/server.properties admin_password store_password
  # The broker's secrets: made at random once per checkout, kept in .local/secrets/kafka.json.
  admin_password=$(local_secret admin_password) store_password=$(local_secret store_password)
  kafka_tls "$store_password"
  (umask 077 && sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" \
    -e "s#@DATA_DIR@#$dir#g" -e "s#@TLS_DIR@#$LOCAL/kafka/tls#g" \
    -e "s#@ADMIN_PASSWORD@#$admin_password#g" -e "s#@STORE_PASSWORD@#$store_password#g" \
    "$HERE/kafka/server.properties.in" >"$conf")
  local cp; cp=$(cat "$LOCAL/kafka/classpath.txt")
  if [[ -f $dir/meta.properties && ! -f $dir/.scram ]]; then
    say "Kafka storage was formatted without its admin principal: formatting it again"
    rm -rf "$dir" && mkdir -p "$dir"
  fi
  if [[ ! -f $dir/meta.properties ]]; then
    local cluster_id
    # As Kafka's own random-uuid: never one starting with "-", which the tool would read as an
    # option (1 in 64 fresh machines failed here).
    cluster_id=$(python3 -c '
import base64, uuid
while (i := base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()).startswith("-"):
    pass
print(i)')
    say "formatting Kafka storage (cluster id $cluster_id, admin principal made)"
    java -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" \
      --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_password]" >>"$LOGS/kafka.log" 2>&1
    touch "$dir/.scram"
  fi
  say "starting Kafka on 127.0.0.1:$KAFKA_PORT (SASL_SSL)"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$conf" >>"$LOGS/kafka.log" 2>&1 &
  echo $! >"$RUN/kafka.pid"
  wait_port kafka "$KAFKA_PORT" "$RUN/kafka.pid" 90
}

start_minio() {
  port_open "$MINIO_PORT" && { say "MinIO already answers on $MINIO_PORT"; return 0; }
  # Its administrator and its KMS key: made at random once per checkout, kept in
  # .local/secrets/minio.json (MinIO encrypts its users and every object with that key).
  local root_password kms_key
  root_password=$(devkit devkit.s3_access root_password)
  kms_key=$(devkit devkit.s3_access kms_secret_key)
  if [[ -d $DATA/minio/.minio.sys && ! -f $DATA/minio/.aap-kms ]]; then
    say "MinIO data was made without a KMS key or with another administrator: starting it afresh"
    rm -rf "$DATA/minio" && mkdir -p "$DATA/minio"
  fi
  touch "$DATA/minio/.aap-kms"
  say "starting MinIO on 127.0.0.1:$MINIO_PORT (server-side encryption with its KMS key)"
  MINIO_ROOT_USER=aap-root MINIO_ROOT_PASSWORD=$root_password MINIO_KMS_SECRET_KEY=$kms_key \
    MINIO_BROWSER=off nohup "$BIN/minio" server --quiet --address "127.0.0.1:$MINIO_PORT" \
    "$DATA/minio" >>"$LOGS/minio.log" 2>&1 &
  echo $! >"$RUN/minio.pid"
  wait_port minio "$MINIO_PORT" "$RUN/minio.pid" 60
}

PG_BIN=${AAP_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}

install_postgres() {
  [[ -x $PG_BIN/initdb ]] && return 0
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    say "PostgreSQL is missing: install Debian's package \`postgresql\` (or set AAP_POSTGRES_BIN)"
    return 1
  fi
  say "installing PostgreSQL (postgresql) from Debian's packages"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } \
    >"$LOGS/postgres-install.log" 2>&1 || { say "apt-get failed; see $LOGS/postgres-install.log"; return 1; }
}

as_postgres() { # PostgreSQL refuses to run as root: as Debian's system user `postgres` then
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_home() { # where the cluster, its socket and its log live: .local/ when the server's user can
  # reach it; else (a checkout under a home only root may enter) a directory of its own per checkout
  if [[ $(id -u) != 0 ]] || runuser -u postgres -- test -x "$LOCAL"; then echo "$DATA/postgres-home"
  else echo "/var/lib/aap-postgres/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"; fi
}

start_postgres() {
  port_open "$POSTGRES_PORT" && { say "PostgreSQL already answers on $POSTGRES_PORT"; return 0; }
  install_postgres || return 1
  local home; home=$(pg_home)
  local dir=$home/data log=$home/postgres.log password_file=$home/superuser.pw
  mkdir -p "$dir" "$home/run"
  touch "$log" && ln -sfn "$log" "$LOGS/postgres.log"
  [[ $(id -u) == 0 ]] && chown -R postgres: "$home" && chmod 700 "$dir"
  if [[ ! -f $dir/PG_VERSION ]]; then
    # The superuser's password: made at random once per checkout (.local/secrets/postgres.json).
    (umask 077 && devkit devkit.pg_access superuser_password >"$password_file")
    [[ $(id -u) == 0 ]] && chown postgres: "$password_file"
    say "creating the PostgreSQL cluster ($dir: UTF-8, SCRAM passwords for every connection)"
    as_postgres "$PG_BIN/initdb" -D "$dir" -U postgres --pwfile="$password_file" --encoding=UTF8 \
      --locale=C.UTF-8 --auth=scram-sha-256 >>"$log" 2>&1 \
      || { rm -f "$password_file"; say "initdb failed; see $log"; return 1; }
    rm -f "$password_file"
  fi
  say "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
  # The archive of record: every commit on disk before it is acknowledged.
  as_postgres "$PG_BIN/pg_ctl" -D "$dir" -l "$log" -w -t 60 -o "-p $POSTGRES_PORT \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories=$home/run -c fsync=on \
    -c synchronous_commit=on -c full_page_writes=on -c password_encryption=scram-sha-256 \
    -c max_connections=400 -c shared_buffers=256MB -c log_min_messages=warning" start >/dev/null \
    || { say "PostgreSQL did not start; last lines of $log:"; tail -n 30 "$log" >&2; return 1; }
  head -n 1 "$dir/postmaster.pid" >"$RUN/postgres.pid"
}

build_keycloak() {
  [[ -x $LOCAL/keycloak-$KEYCLOAK_VERSION/bin/kc.sh ]] && return 0
  say "resolving Keycloak $KEYCLOAK_VERSION from Maven Central (kept in ~/.m2)"
  local zip=~/.m2/repository/org/keycloak/keycloak-quarkus-dist/$KEYCLOAK_VERSION/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip
  [[ -s $zip ]] || mvn -q -B dependency:get -Dtransitive=false \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" >"$LOGS/maven-keycloak.log" 2>&1 \
    || { say "Maven failed; see $LOGS/maven-keycloak.log"; tail -n 20 "$LOGS/maven-keycloak.log" >&2; return 1; }
  (cd "$LOCAL" && unzip -q -o "$zip")
}

start_keycloak() {
  port_open "$KEYCLOAK_PORT" && { say "Keycloak already answers on $KEYCLOAK_PORT"; return 0; }
  local home=$LOCAL/keycloak-$KEYCLOAK_VERSION
  # The realm and its secrets: made at random once per checkout, kept in .local/secrets/.
  devkit devkit.identity realm "$home/data/import/aap-realm.json"
  # Keycloak imports a realm it does not have yet: a realm changed since (its people, its rules
  # for usernames) is imported afresh into a new development database.
  local imported=$home/data/import/.imported digest
  digest=$(sha256sum "$home/data/import/aap-realm.json" | cut -d' ' -f1)
  if [[ -d $home/data/h2 && $(cat "$imported" 2>/dev/null) != "$digest" ]]; then
    say "the realm changed since Keycloak imported it: importing it afresh"
    rm -rf "$home/data/h2"
  fi
  echo "$digest" >"$imported"
  local admin_password; admin_password=$(devkit devkit.identity admin-password)
  say "starting Keycloak on 127.0.0.1:$KEYCLOAK_PORT (realm aap)"
  # A fixed hostname: the `iss` of every token is this URL, whatever host a client used.
  KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$admin_password \
    JAVA_OPTS_KC_HEAP="-Xms128m -Xmx512m" \
    nohup "$home/bin/kc.sh" start-dev --http-host 127.0.0.1 --http-port "$KEYCLOAK_PORT" \
    --hostname "http://127.0.0.1:$KEYCLOAK_PORT" --import-realm --health-enabled false \
    >>"$LOGS/keycloak.log" 2>&1 &
  echo $! >"$RUN/keycloak.pid"
  wait_port keycloak "$KEYCLOAK_PORT" "$RUN/keycloak.pid" 120
  local i  # the port opens before the realm is imported: wait for its discovery document
  for ((i = 0; i < 300; i++)); do
    curl -sf "http://127.0.0.1:$KEYCLOAK_PORT/realms/aap/.well-known/openid-configuration" >/dev/null && return 0
    sleep 0.2
  done
  say "Keycloak answers but realm aap does not; see $LOGS/keycloak.log"; return 1
}

install_clamd() {
  command -v clamd >/dev/null && return 0
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    say "clamd is missing and cannot be installed here: the virus scan (4-2) will be 'not performed'"
    return 1
  fi
  say "installing ClamAV (clamav-daemon) from Debian's packages"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clamav-daemon; } \
    >"$LOGS/clamav-install.log" 2>&1 || { say "apt-get failed; see $LOGS/clamav-install.log"; return 1; }
}

# The archive renders OA approval records to PDF with a CJK font embedded (AAP_ARCHIVE_CJK_FONT).
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
install_cjk_font() {
  [[ -f $CJK_FONT ]] && return 0
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    say "no CJK font at $CJK_FONT and none can be installed here: the archive will not start; set AAP_ARCHIVE_CJK_FONT"
    return 0
  fi
  say "installing a CJK font (fonts-wqy-microhei) from Debian's packages"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei; } \
    >"$LOGS/font-install.log" 2>&1 || say "apt-get failed; see $LOGS/font-install.log"
}

start_clamd() {
  port_open "$CLAMD_PORT" && { say "clamd already answers on $CLAMD_PORT"; return 0; }
  install_clamd || return 0
  mkdir -p "$DATA/clamav"
  cp "$HERE/clamav/"*.ndb "$DATA/clamav/"
  sed -e "s#@DB_DIR@#$DATA/clamav#" -e "s#@PORT@#$CLAMD_PORT#" -e "s#@LOG@#$LOGS/clamd-scan.log#" \
    "$HERE/clamav/clamd.conf.in" >"$LOCAL/clamd.conf"
  say "starting clamd on 127.0.0.1:$CLAMD_PORT (test signatures only)"
  nohup clamd -c "$LOCAL/clamd.conf" >>"$LOGS/clamd.log" 2>&1 &
  echo $! >"$RUN/clamd.pid"
  wait_port clamd "$CLAMD_PORT" "$RUN/clamd.pid" 60
}

up() {
  mkdir -p "$BIN" "$DATA/kafka" "$DATA/minio" "$LOGS" "$RUN"
  command -v java >/dev/null || { say "java (17+) is required for Kafka"; exit 1; }
  command -v mvn >/dev/null || { say "Maven is required to resolve Kafka"; exit 1; }
  command -v go >/dev/null || { say "Go is required to build MinIO"; exit 1; }
  command -v unzip >/dev/null || { say "unzip is required to unpack Keycloak"; exit 1; }
  build_kafka & k=$!
  build_keycloak & c=$!
  build_minio
  wait $k; wait $c
  start_keycloak & kc=$!  # the slowest to start: alongside the others
  start_kafka
  start_minio
  start_postgres
  start_clamd
  install_cjk_font
  wait $kc
  say "creating topics, Kafka principals and ACLs, S3 users, policies and buckets, databases and their roles for namespace ${AAP_NAMESPACE:-local}"
  devkit devkit.namespace create
  status
}

stop_one() { # name [signal]
  [[ $1 == postgres ]] && { stop_postgres "${2:-TERM}"; return; }
  if [[ -f $RUN/$1.pid ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; then
    say "stopping $1"; kill "-${2:-TERM}" "$(cat "$RUN/$1.pid")" || true
    for _ in $(seq 1 100); do kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$RUN/$1.pid"
}

stop_postgres() { # signal: TERM a fast shutdown (clients disconnected), KILL an outage
  local dir pid; dir=$(pg_home)/data
  [[ -f $dir/postmaster.pid ]] || { rm -f "$RUN/postgres.pid"; return 0; }
  if [[ $1 == KILL ]]; then  # the postmaster and every backend, as a power cut would
    pid=$(head -n 1 "$dir/postmaster.pid"); say "killing postgres"
    pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  else
    say "stopping postgres"; as_postgres "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -f "$RUN/postgres.pid"
}

down() {
  local name
  for name in kafka minio postgres clamd keycloak; do stop_one "$name"; done
}

status() {
  local ok=0
  port_open "$KAFKA_PORT" && say "kafka     up   127.0.0.1:$KAFKA_PORT (SASL_SSL, SCRAM-SHA-512; CA $LOCAL/kafka/tls/ca.pem)" || { say "kafka     down"; ok=1; }
  port_open "$MINIO_PORT" && say "minio     up   http://127.0.0.1:$MINIO_PORT" || { say "minio     down"; ok=1; }
  port_open "$POSTGRES_PORT" && say "postgres  up   127.0.0.1:$POSTGRES_PORT (a database and a role per service and namespace; superuser's password: .local/secrets/postgres.json)" || { say "postgres  down"; ok=1; }
  port_open "$CLAMD_PORT" && say "clamd     up   127.0.0.1:$CLAMD_PORT" || say "clamd     down (virus scan not performed)"
  port_open "$KEYCLOAK_PORT" && say "keycloak  up   http://127.0.0.1:$KEYCLOAK_PORT/realms/aap (sample people and secrets: .local/secrets/identity.json)" || { say "keycloak  down"; ok=1; }
  say "logs in $LOGS"
  return $ok
}

one_of() { [[ $1 =~ ^(kafka|minio|postgres|clamd|keycloak)$ ]] || { echo "no server $1" >&2; exit 2; }; }
ours() { # stop or kill only what this checkout started: another's server is not ours to stop
  [[ -f $RUN/$1.pid ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null \
    || { say "$1 was not started by this checkout ($RUN/$1.pid)"; exit 1; }
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  stop) one_of "${2:-}"; ours "$2"; stop_one "$2" ;;
  kill) one_of "${2:-}"; ours "$2"; stop_one "$2" KILL ;;  # an outage, not a shutdown
  start) one_of "${2:-}"; mkdir -p "$LOGS" "$RUN"; "start_$2" ;;
  *) echo "usage: $0 up|down|status|stop SERVER|kill SERVER|start SERVER" >&2; exit 2 ;;
esac
