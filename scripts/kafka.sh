#!/usr/bin/env bash
# Real Apache Kafka (KRaft, no ZooKeeper) for development and tests.
#
#   scripts/kafka.sh start   [--brokers 1|3]   start (or confirm) a broker / a three-broker cluster
#   scripts/kafka.sh stop                      SIGTERM every broker, wait for a clean shutdown
#   scripts/kafka.sh status                    one line per broker; exit 1 when none is serving
#   scripts/kafka.sh restart-broker N          stop and start broker N (chaos tests)
#   scripts/kafka.sh reset                     stop and delete all broker data
#
# The broker jars come from Maven Central (org.apache.kafka:kafka_2.13 and its transitive jars,
# plus a log4j SLF4J binding) into ~/.cache/edgebus/kafka-<version>/libs, resolved once and reused.
# Every broker is a combined broker+controller: broker N listens on 127.0.0.1:(9091+N) and its
# controller on 127.0.0.1:(29091+N) (shifted by EDGEBUS_KAFKA_PORT, default 9092). With three brokers topics get replication factor 3 and
# min.insync.replicas=2, so `acks=all` survives one broker down. Each broker also has a
# SASL_PLAINTEXT listener on 127.0.0.1:(9191+N) (PLAIN, SCRAM-SHA-256/512; dev-only user
# edgebus / edgebus-dev-secret) for the bridge's SASL tests, and an SSL listener on
# 127.0.0.1:(9291+N) with a throwaway CA (<state>/tls/ca.pem) for its TLS tests.
#
# Environment: EDGEBUS_KAFKA_VERSION (default below), EDGEBUS_KAFKA_STATE (default <repo>/.cache/kafka),
# EDGEBUS_KAFKA_PORT (first broker port, default 9092), EDGEBUS_KAFKA_CONTROLLER_PORT (first
# controller port, default EDGEBUS_KAFKA_PORT + 20000),
# EDGEBUS_KAFKA_HEAP (default -Xms256m -Xmx512m; sized for a 2-core / 24 GiB machine).
set -euo pipefail
# Everything this script writes is private to its user: the dev CA and broker keys (tls/), the
# broker configs (the SASL user's password), the data. Files 0600, folders 0700.
umask 077

# 4.4.0 is announced in maven-metadata.xml but kafka-tools-api 4.4.0 is not published, so the broker
# cannot be resolved; 4.3.1 is the newest complete 4.x release on Maven Central.
KAFKA_VERSION="${EDGEBUS_KAFKA_VERSION:-4.3.1}"
LOG4J_VERSION="2.25.4" # the log4j-core version kafka-server depends on; the binding must match it
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${HOME}/.cache/edgebus/kafka-${KAFKA_VERSION}"
LIBS_DIR="${CACHE_DIR}/libs"
STATE_DIR="${EDGEBUS_KAFKA_STATE:-${REPO_ROOT}/.cache/kafka}"
HEAP_OPTS="${EDGEBUS_KAFKA_HEAP:--Xms256m -Xmx512m}"
READY_TIMEOUT_SECONDS="${EDGEBUS_KAFKA_READY_TIMEOUT:-90}"
# A second cluster (e.g. a three-broker one for chaos tests next to the dev broker) needs its own
# ports and state: EDGEBUS_KAFKA_PORT=19092 EDGEBUS_KAFKA_STATE=/tmp/kafka-3 scripts/kafka.sh start --brokers 3
BASE_PORT="${EDGEBUS_KAFKA_PORT:-9092}"
# Controller listeners: base + 20000 unless set. A second cluster whose shifted controller ports
# fall in Linux's ephemeral range (32768-60999) can lose them to a client socket: set it lower.
CONTROLLER_BASE_PORT="${EDGEBUS_KAFKA_CONTROLLER_PORT:-$((BASE_PORT + 20000))}"
# Dev/test-only SASL user on the SASL_PLAINTEXT listener (first broker: port 9192).
SASL_USER="edgebus"
SASL_PASSWORD="edgebus-dev-secret"
STOP_TIMEOUT_SECONDS=45

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

broker_port() { echo $((BASE_PORT + $1 - 1)); }
controller_port() { echo $((CONTROLLER_BASE_PORT + $1 - 1)); }
sasl_port() { echo $((BASE_PORT + 100 + $1 - 1)); }
tls_port() { echo $((BASE_PORT + 200 + $1 - 1)); }
broker_dir() { echo "${STATE_DIR}/broker-$1"; }
pid_file() { echo "$(broker_dir "$1")/kafka.pid"; }

configured_brokers() {
  if [[ -f "${STATE_DIR}/brokers" ]]; then cat "${STATE_DIR}/brokers"; else echo 0; fi
}

broker_pid() {
  local file
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  local pid
  pid="$(cat "$file")"
  # The pid must still be a Kafka JVM: a stale pid file may point at an unrelated process.
  if kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/${pid}/cmdline" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

resolve_jars() {
  if [[ -f "${LIBS_DIR}/.complete" ]]; then return 0; fi
  command -v java >/dev/null || die "java not found (Kafka ${KAFKA_VERSION} needs Java 17+)"
  command -v mvn >/dev/null || die "mvn not found; it resolves the Kafka jars from Maven Central"
  mkdir -p "$CACHE_DIR"
  # Two concurrent starts (parallel test workers) must not both write the libs folder.
  exec 9>"${CACHE_DIR}/.resolve.lock"
  flock 9
  if [[ -f "${LIBS_DIR}/.complete" ]]; then
    flock -u 9
    return 0
  fi
  log "resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS_DIR}"
  cat >"${CACHE_DIR}/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>edgebus.local</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "${LIBS_DIR}"
  mvn -q -B -f "${CACHE_DIR}/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="${LIBS_DIR}" -DincludeScope=runtime >"${CACHE_DIR}/resolve.log" 2>&1 ||
    die "resolving the jars failed; see ${CACHE_DIR}/resolve.log"
  touch "${LIBS_DIR}/.complete"
  flock -u 9
}

write_log_config() {
  cat >"${STATE_DIR}/log4j2.properties" <<'EOF'
# Broker logs go to stdout, which kafka.sh redirects into broker-N/server.log.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

# A dev CA and a broker certificate for 127.0.0.1 (PEM, which Kafka reads directly). Made once per
# state folder; clients trust tls/ca.pem.
ensure_tls_material() {
  local dir="${STATE_DIR}/tls"
  if [[ -f "${dir}/broker-keystore.pem" ]]; then
    # Made by an older version of this script, readable by others: tighten it.
    chmod -R go-rwx "$dir"
    return 0
  fi
  command -v openssl >/dev/null || die "openssl not found (needed for the dev TLS listener)"
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=edgebus dev CA" \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout broker-key.rsa.pem -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile broker.ext -out broker.pem
    # Kafka's PEM keystore wants an unencrypted PKCS#8 key followed by the certificate chain.
    openssl pkcs8 -topk8 -nocrypt -in broker-key.rsa.pem -out broker-key.pem
    cat broker-key.pem broker.pem ca.pem >broker-keystore.pem
  ) >"${STATE_DIR}/tls.log" 2>&1 || die "creating the dev TLS material failed; see ${STATE_DIR}/tls.log"
}

write_broker_config() {
  local id=$1 count=$2
  local voters="" i
  for ((i = 1; i <= count; i++)); do voters+="${voters:+,}${i}@127.0.0.1:$(controller_port "$i")"; done
  local replication=$count min_isr=1
  if ((count >= 3)); then min_isr=2; fi
  mkdir -p "$(broker_dir "$id")/data"
  # Holds the SASL user's password; an older run may have left it readable by others.
  if [[ -f "$(broker_dir "$id")/server.properties" ]]; then chmod go-rwx "$(broker_dir "$id")/server.properties"; fi
  cat >"$(broker_dir "$id")/server.properties" <<EOF
# Generated by scripts/kafka.sh; edits are overwritten on the next start.
node.id=${id}
process.roles=broker,controller
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id"),CONTROLLER://127.0.0.1:$(controller_port "$id"),SASL_PLAINTEXT://127.0.0.1:$(sasl_port "$id"),SSL://127.0.0.1:$(tls_port "$id")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id"),SASL_PLAINTEXT://127.0.0.1:$(sasl_port "$id"),SSL://127.0.0.1:$(tls_port "$id")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
# A TLS listener with a throwaway dev CA (tls/ca.pem in the state folder) for the bridge's TLS tests.
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=${STATE_DIR}/tls/broker-keystore.pem
# A SASL listener with a dev-only user, so the bridge's SASL settings are tested against a real
# broker: PLAIN from the JAAS line below, SCRAM credentials written after start (ensure_scram_users).
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USER}="${SASL_PASSWORD}";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=${voters}
log.dirs=$(broker_dir "$id")/data
num.partitions=1
default.replication.factor=${replication}
min.insync.replicas=${min_isr}
offsets.topic.replication.factor=${replication}
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=${replication}
transaction.state.log.min.isr=${min_isr}
share.coordinator.state.topic.replication.factor=${replication}
share.coordinator.state.topic.min.isr=${min_isr}
# Topics are created explicitly (the bridge creates them with the catalogue's partition counts);
# a typo in a topic name must not silently create a one-partition topic.
auto.create.topics.enable=false
# Consumer groups form immediately instead of waiting 3 s for more members: tests stay fast.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

format_storage() {
  local count=$1 cluster_id id
  cluster_id="$(java -cp "${LIBS_DIR}/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  [[ -n "$cluster_id" ]] || die "kafka-storage random-uuid produced no cluster id"
  echo "$cluster_id" >"${STATE_DIR}/cluster-id"
  for ((id = 1; id <= count; id++)); do
    java -Dlog4j2.configurationFile="${STATE_DIR}/log4j2.properties" -cp "${LIBS_DIR}/*" kafka.tools.StorageTool \
      format -t "$cluster_id" -c "$(broker_dir "$id")/server.properties" --ignore-formatted \
      >"$(broker_dir "$id")/format.log" 2>&1 || die "formatting broker ${id} failed; see $(broker_dir "$id")/format.log"
  done
}

launch_broker() {
  local id=$1
  if broker_pid "$id" >/dev/null; then return 0; fi
  port_open "$(broker_port "$id")" && die "port $(broker_port "$id") is taken by a process kafka.sh did not start"
  local dir
  dir="$(broker_dir "$id")"
  # setsid: the broker outlives the shell that started it and ignores its terminal's signals.
  # 8>&- 9>&-: the broker must not inherit (and so hold forever) kafka.sh's lock files.
  # shellcheck disable=SC2086
  setsid java ${HEAP_OPTS} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="${STATE_DIR}/log4j2.properties" \
    -cp "${LIBS_DIR}/*" kafka.Kafka "${dir}/server.properties" >>"${dir}/server.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$(pid_file "$id")"
}

# The probe's client needs Node >= 22 (Promise.withResolvers). Under an older `node` on PATH (a
# direct `bash scripts/kafka.sh start` on a Node 20 machine) the project's launcher names the newer
# Node the npm scripts use, fetched once; resolved once per run, "none" when it cannot be had.
PROBE_NODE=""
resolve_probe_node() {
  [[ -n "$PROBE_NODE" ]] && return 0
  local bin_dir
  if command -v node >/dev/null && bin_dir=$(node "${REPO_ROOT}/scripts/with-node.mjs" --print-bin-dir 2>/dev/null); then
    PROBE_NODE="${bin_dir}/node"
  else
    PROBE_NODE="none"
  fi
}

# Ready = every broker accepts connections and the cluster metadata lists all of them, asked
# over the Kafka protocol with the project's own client (falls back to the broker log line when
# Node or node_modules are unavailable).
probe_cluster() {
  local count=$1 id
  for ((id = 1; id <= count; id++)); do port_open "$(broker_port "$id")" || return 1; done
  resolve_probe_node
  if [[ "$PROBE_NODE" != "none" && -d "${REPO_ROOT}/node_modules/@platformatic/kafka" ]]; then
    local bootstrap=""
    for ((id = 1; id <= count; id++)); do bootstrap+="${bootstrap:+,}127.0.0.1:$(broker_port "$id")"; done
    (cd "$REPO_ROOT" && BOOTSTRAP="$bootstrap" EXPECTED="$count" timeout 15 "$PROBE_NODE" --input-type=module -e '
      import { Admin } from "@platformatic/kafka";
      const admin = new Admin({ clientId: "kafka-sh-probe", bootstrapBrokers: process.env.BOOTSTRAP.split(","), timeout: 5000, retries: 0 });
      try {
        const metadata = await admin.metadata({ topics: [] });
        process.exit(metadata.brokers.size >= Number(process.env.EXPECTED) ? 0 : 1);
      } catch { process.exit(1); } finally { await admin.close().catch(() => {}); }
    ' >/dev/null 2>&1)
    return $?
  fi
  for ((id = 1; id <= count; id++)); do
    grep -q 'Kafka Server started' "$(broker_dir "$id")/server.log" 2>/dev/null || return 1
  done
}

wait_ready() {
  local count=$1 deadline id
  # Before the clock starts: the first resolution may fetch a Node (once per machine).
  resolve_probe_node
  deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
  while ((SECONDS < deadline)); do
    for ((id = 1; id <= count; id++)); do
      broker_pid "$id" >/dev/null || die "broker ${id} exited during startup; last lines of $(broker_dir "$id")/server.log:
$(tail -n 20 "$(broker_dir "$id")/server.log" 2>/dev/null)"
    done
    if probe_cluster "$count"; then return 0; fi
    sleep 1
  done
  die "Kafka not ready after ${READY_TIMEOUT_SECONDS}s; see ${STATE_DIR}/broker-*/server.log"
}

# SCRAM credentials live in the cluster metadata; writing them through the admin API (instead of
# at format time) also equips a cluster formatted by an older kafka.sh. Idempotent; done once.
ensure_scram_users() {
  [[ -f "${STATE_DIR}/.scram-users" ]] && return 0
  local mechanism
  # One mechanism per request: Kafka refuses two alterations of one user in the same request.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    java -Dlog4j2.configurationFile="${STATE_DIR}/log4j2.properties" -cp "${LIBS_DIR}/*" kafka.admin.ConfigCommand \
      --bootstrap-server "127.0.0.1:$(broker_port 1)" --alter --entity-type users --entity-name "${SASL_USER}" \
      --add-config "${mechanism}=[password=${SASL_PASSWORD}]" >>"${STATE_DIR}/scram-users.log" 2>&1 ||
      die "creating the ${mechanism} user failed; see ${STATE_DIR}/scram-users.log"
  done
  touch "${STATE_DIR}/.scram-users"
}

stop_broker() {
  local id=$1 pid
  pid="$(broker_pid "$id")" || {
    rm -f "$(pid_file "$id")"
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    # Only reached when a broker cannot finish its controlled shutdown (e.g. the last broker of a
    # cluster that lost its controller quorum); its log segments are recovered on the next start.
    log "broker ${id} (pid ${pid}) did not stop within ${STOP_TIMEOUT_SECONDS}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$id")"
  log "broker ${id} stopped"
}

cmd_start() {
  local count=1
  while (($#)); do
    case "$1" in
    --brokers)
      count="${2:-}"
      shift 2 || die "--brokers needs a value"
      ;;
    --brokers=*)
      count="${1#--brokers=}"
      shift
      ;;
    *) die "unknown option for start: $1" ;;
    esac
  done
  [[ "$count" == 1 || "$count" == 3 ]] || die "--brokers must be 1 or 3 (got '${count}')"
  resolve_jars
  mkdir -p "$STATE_DIR"
  exec 8>"${STATE_DIR}/.start.lock"
  flock 8

  local existing
  existing="$(configured_brokers)"
  if [[ "$existing" != 0 && "$existing" != "$count" ]]; then
    if any_running; then die "a ${existing}-broker cluster is running; run '$0 stop' (or reset) first"; fi
    log "switching from ${existing} to ${count} broker(s): deleting the old cluster's data"
    rm -rf "${STATE_DIR:?}"/broker-* "${STATE_DIR}/cluster-id" "${STATE_DIR}/.scram-users"
  fi
  write_log_config
  ensure_tls_material
  local id
  for ((id = 1; id <= count; id++)); do write_broker_config "$id" "$count"; done
  if [[ ! -f "${STATE_DIR}/cluster-id" ]]; then format_storage "$count"; fi
  echo "$count" >"${STATE_DIR}/brokers"

  for ((id = 1; id <= count; id++)); do launch_broker "$id"; done
  wait_ready "$count"
  ensure_scram_users
  log "Kafka ${KAFKA_VERSION} ready: KAFKA_BROKERS=$(bootstrap_list "$count")"
}

bootstrap_list() {
  local count=$1 list="" id
  for ((id = 1; id <= count; id++)); do list+="${list:+,}127.0.0.1:$(broker_port "$id")"; done
  echo "$list"
}

any_running() {
  local id
  for ((id = 1; id <= 3; id++)); do broker_pid "$id" >/dev/null && return 0; done
  return 1
}

cmd_stop() {
  local count id
  count="$(configured_brokers)"
  ((count > 0)) || count=3
  # All brokers at once: stopped one by one, the last ones lose their controller quorum and then
  # wait for a controlled shutdown that can never be acknowledged.
  for ((id = count; id >= 1; id--)); do stop_broker "$id" & done
  wait
}

cmd_status() {
  local count id serving=0 pid
  count="$(configured_brokers)"
  if ((count == 0)); then
    echo "kafka: not set up (run '$0 start')"
    return 1
  fi
  for ((id = 1; id <= count; id++)); do
    if pid="$(broker_pid "$id")"; then
      if port_open "$(broker_port "$id")"; then
        echo "broker ${id}: serving on 127.0.0.1:$(broker_port "$id"), SASL on $(sasl_port "$id"), TLS on $(tls_port "$id") (pid ${pid})"
        serving=$((serving + 1))
      else
        echo "broker ${id}: starting (pid ${pid}), 127.0.0.1:$(broker_port "$id") not open yet"
      fi
    else
      echo "broker ${id}: stopped"
    fi
  done
  echo "kafka ${KAFKA_VERSION}: ${serving}/${count} broker(s) serving; state in ${STATE_DIR}"
  ((serving > 0))
}

cmd_restart_broker() {
  local id="${1:-}" count
  count="$(configured_brokers)"
  [[ "$id" =~ ^[0-9]+$ ]] && ((id >= 1 && id <= count)) || die "restart-broker needs a broker number 1..${count}"
  resolve_jars
  stop_broker "$id"
  launch_broker "$id"
  wait_ready "$count"
  log "broker ${id} restarted"
}

cmd_reset() {
  cmd_stop
  rm -rf "${STATE_DIR:?}"/broker-* "${STATE_DIR}/cluster-id" "${STATE_DIR}/brokers" "${STATE_DIR}/.scram-users" "${STATE_DIR}/tls"
  log "deleted Kafka data under ${STATE_DIR}"
}

main() {
  local command="${1:-}"
  shift || true
  case "$command" in
  start) cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart-broker) cmd_restart_broker "$@" ;;
  reset) cmd_reset ;;
  *)
    sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
  esac
}

# Sourced (tests call its functions), it only defines them.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
