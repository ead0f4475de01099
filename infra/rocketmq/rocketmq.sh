#!/usr/bin/env bash
# A local RocketMQ 5 for development and CI, from Maven Central jars (no Docker, no download
# mirror): a name server JVM plus one JVM running the broker and the gRPC proxy ("local" mode).
#
#   infra/rocketmq/rocketmq.sh fetch            copy the pinned jars into the cache (idempotent)
#   infra/rocketmq/rocketmq.sh start [--fresh]  start both, wait until ready (--fresh wipes the store)
#   infra/rocketmq/rocketmq.sh stop             stop both and wait for them to exit
#   infra/rocketmq/rocketmq.sh status           what runs, where, how much memory
#
# Environment (defaults in brackets):
#   MQIM_RMQ_HOME            data dir: configs, logs, store, pid files [<repo>/.infra/rocketmq]
#   MQIM_RMQ_CACHE           jar cache, shared by every checkout [${XDG_CACHE_HOME:-~/.cache}/mqim/rocketmq]
#   MQIM_RMQ_NAMESRV_PORT    name server [9876]
#   MQIM_RMQ_BROKER_PORT     broker remoting [10911]; the broker also takes this-2 and this+1
#   MQIM_RMQ_GRPC_PORT       proxy gRPC, what rocketmq-client-nodejs talks to [8081]
#   MQIM_RMQ_REMOTING_PORT   proxy remoting [8082] (its default 8080 collides with everything)
#   MQIM_RMQ_START_TIMEOUT   seconds to wait for readiness [120]
#   JAVA                     java binary [java]
#   MQIM_RMQ_GC              garbage-collector flags of both JVMs [-XX:+UseG1GC]
#   MQIM_RMQ_BROKER_EXTRA    extra broker.conf lines (newline-separated key=value), for experiments []
# See docs/rocketmq.md for the measured start-up time and memory, and why each setting is there.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"

RMQ_HOME="${MQIM_RMQ_HOME:-$REPO_ROOT/.infra/rocketmq}"
CACHE_ROOT="${MQIM_RMQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mqim/rocketmq}"
NAMESRV_PORT="${MQIM_RMQ_NAMESRV_PORT:-9876}"
BROKER_PORT="${MQIM_RMQ_BROKER_PORT:-10911}"
GRPC_PORT="${MQIM_RMQ_GRPC_PORT:-8081}"
REMOTING_PORT="${MQIM_RMQ_REMOTING_PORT:-8082}"
START_TIMEOUT="${MQIM_RMQ_START_TIMEOUT:-120}"
JAVA="${JAVA:-java}"

RUN_DIR="$RMQ_HOME/run"
CONF_DIR="$RMQ_HOME/conf"
LOG_DIR="$RMQ_HOME/logs"
STORE_DIR="$RMQ_HOME/store"

log() { printf '[rocketmq] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

rmq_version() { sed -n 's:.*<rocketmq.version>\(.*\)</rocketmq.version>.*:\1:p' "$POM" | head -1; }

# One jar set per pom content: editing the pom (a new version) fetches into a new dir.
lib_dir() {
  local hash
  hash="$(sha256sum "$POM" | cut -c1-12)"
  echo "$CACHE_ROOT/lib-$(rmq_version)-$hash"
}

cmd_fetch() {
  local lib
  lib="$(lib_dir)"
  if [[ -f "$lib/.complete" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  log "fetching RocketMQ $(rmq_version) jars into $lib"
  local tmp="$lib.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime >"$tmp.log" 2>&1; then
    tail -n 40 "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "mvn dependency:copy-dependencies failed"
  fi
  rm -f "$tmp.log"
  touch "$tmp/.complete"
  rm -rf "$lib"
  mv "$tmp" "$lib"
  log "fetched $(find "$lib" -name '*.jar' | wc -l) jars"
}

pid_of() {
  local file="$RUN_DIR/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  # The pid file may be stale (reboot, kill -9): trust it only if that pid runs our main class.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  return 1
}

namesrv_pid() { pid_of namesrv org.apache.rocketmq.namesrv.NamesrvStartup; }
proxy_pid() { pid_of proxy org.apache.rocketmq.proxy.ProxyStartup; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_configs() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$STORE_DIR" "$RUN_DIR"
  cat >"$CONF_DIR/namesrv.properties" <<EOF
listenPort=$NAMESRV_PORT
EOF
  cat >"$CONF_DIR/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
namesrvAddr=127.0.0.1:$NAMESRV_PORT
# Clients connect to the address the route returns: never a LAN address on a dev box or CI.
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$STORE_DIR
storePathCommitLog=$STORE_DIR/commitlog
# 64 MiB commit log files instead of 1 GiB: a test store stays small.
mappedFileSizeCommitLog=67108864
# Topics exist only when provisioned (mqim provision / RocketMqBus.ensureTopics).
autoCreateTopicEnable=false
# Arbitrary-time delay messages (deliveryTimestamp) need the timer wheel.
timerWheelEnable=true
timerPrecisionMs=100
# Idle CPU (docs/rocketmq.md, "Idle CPU"): every flush compares the whole 37 MiB timer wheel
# byte by byte, so flush it every 30 s instead of every second, and run one timer
# get/put thread each instead of three (each idle one wakes up every 10 ms).
timerFlushIntervalMs=30000
timerGetMessageThreadNum=1
timerPutMessageThreadNum=1
# One delay-level scheduler task per level, each polling every 100 ms. Nothing here sends
# delay-level messages (gRPC delays and pop retries go through the timer wheel); remoting
# consumer retries (level 3 + attempt) are capped at the last level.
messageDelayLevel=1s 5s 10s 30s 1m 2m
deleteWhen=04
fileReservedTime=24
${MQIM_RMQ_BROKER_EXTRA:-}
EOF
  # Test-friendly proxy limits (stock values in docs/rocketmq.md): invisibleDuration down to 1 s
  # instead of 10 s, long polls down to 1 s instead of 5 s (a closing consumer's last poll ends
  # sooner), and a cached "topic not found" re-read after 3 s instead of 20 s.
  cat >"$CONF_DIR/rmq-proxy.json" <<EOF
{
  "rocketMQClusterName": "DefaultCluster",
  "namesrvAddr": "127.0.0.1:$NAMESRV_PORT",
  "proxyMode": "LOCAL",
  "grpcServerPort": $GRPC_PORT,
  "remotingListenPort": $REMOTING_PORT,
  "grpcShutdownTimeSeconds": 1,
  "minInvisibleTimeMillsForRecv": 1000,
  "grpcClientConsumerMinLongPollingTimeoutMillis": 1000,
  "topicRouteServiceCacheRefreshSeconds": 3
}
EOF
}

# Waits until `pattern` shows up in `file` and `port` accepts connections, or the process dies.
wait_ready() {
  local name="$1" pid="$2" file="$3" pattern="$4" port="$5" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during start-up; last lines of $file:"
      tail -n 60 "$file" >&2 || true
      return 1
    fi
    if grep -q "$pattern" "$file" 2>/dev/null && port_open "$port"; then
      return 0
    fi
    sleep 0.2
  done
  log "$name not ready after ${START_TIMEOUT}s; last lines of $file:"
  tail -n 60 "$file" >&2 || true
  return 1
}

java_common_opts() {
  # user.home redirects RocketMQ's ~/logs/rocketmqlogs and ~/namesrv into the data dir.
  echo "-Duser.home=$RMQ_HOME -Drocketmq.home.dir=$RMQ_HOME ${MQIM_RMQ_GC:--XX:+UseG1GC} -XX:-OmitStackTraceInFastThrow -XX:+PerfDisableSharedMem"
}

start_namesrv() {
  local lib="$1"
  if namesrv_pid >/dev/null; then
    log "name server already running (pid $(namesrv_pid))"
    return 0
  fi
  port_open "$NAMESRV_PORT" && die "port $NAMESRV_PORT is taken by something else (set MQIM_RMQ_NAMESRV_PORT)"
  local out="$LOG_DIR/namesrv.out"
  : >"$out"
  # shellcheck disable=SC2046
  ROCKETMQ_HOME="$RMQ_HOME" nohup setsid "$JAVA" -Xms128m -Xmx256m -Xss512k $(java_common_opts) \
    -Drmq.logback.configurationFile=rmq.namesrv.logback.xml \
    -cp "$lib/*" org.apache.rocketmq.namesrv.NamesrvStartup -c "$CONF_DIR/namesrv.properties" \
    >"$out" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/namesrv.pid"
  NAMESRV_STARTED=1
  wait_ready "name server" $! "$out" "Name Server boot success" "$NAMESRV_PORT"
}

# Registrations the name server has logged so far (0 when it has no log yet).
registrations() {
  local n
  n=$(grep -c "new broker registered" "$RMQ_HOME/logs/rocketmqlogs/namesrv.log" 2>/dev/null) || true
  echo "${n:-0}"
}

start_proxy() {
  local lib="$1"
  if proxy_pid >/dev/null; then
    log "broker + proxy already running (pid $(proxy_pid))"
    return 0
  fi
  for p in "$BROKER_PORT" "$GRPC_PORT" "$REMOTING_PORT"; do
    port_open "$p" && die "port $p is taken by something else (see the MQIM_RMQ_*_PORT variables)"
  done
  local out="$LOG_DIR/proxy.out"
  : >"$out"
  # The name server logs each registration; count them now to see this broker's own.
  local registered
  registered=$(registrations)
  # shellcheck disable=SC2046
  ROCKETMQ_HOME="$RMQ_HOME" nohup setsid "$JAVA" -Xms512m -Xmx1g -XX:MaxDirectMemorySize=512m $(java_common_opts) \
    -Drmq.logback.configurationFile=rmq.proxy.logback.xml \
    -cp "$lib/*" org.apache.rocketmq.proxy.ProxyStartup -pm local \
    -pc "$CONF_DIR/rmq-proxy.json" -bc "$CONF_DIR/broker.conf" \
    >"$out" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/proxy.pid"
  wait_ready "broker + proxy" $! "$out" "rocketmq-proxy startup successfully" "$GRPC_PORT" || return 1
  # Ready for clients only once the name server lists the broker: until then `mqim provision` and
  # topic routes fail ("no master broker"), which on a loaded machine can take seconds after the
  # proxy is up. Only a name server started just now is sure to log it as a new registration (one
  # that kept running may still hold the broker's previous entry, and then lists it anyway).
  ((${NAMESRV_STARTED:-0})) || return 0
  local deadline=$((SECONDS + START_TIMEOUT))
  while (($(registrations) <= registered)); do
    if ((SECONDS >= deadline)); then
      log "the broker did not register with the name server in ${START_TIMEOUT}s (see logs/rocketmqlogs/namesrv.log)"
      return 1
    fi
    sleep 0.2
  done
}

cmd_start() {
  local fresh=0
  for arg in "$@"; do
    case "$arg" in
      --fresh) fresh=1 ;;
      *) die "unknown option $arg (start [--fresh])" ;;
    esac
  done
  command -v "$JAVA" >/dev/null || die "java not found (a JDK 8+ is needed; 17 is tested)"
  if ((fresh)); then
    cmd_stop
    log "wiping $STORE_DIR"
    rm -rf "$STORE_DIR" "$RMQ_HOME/namesrv"
  elif namesrv_pid >/dev/null && proxy_pid >/dev/null; then
    log "already running: name server pid $(namesrv_pid), broker + proxy pid $(proxy_pid)"
    return 0
  fi
  cmd_fetch
  local lib
  lib="$(lib_dir)"
  write_configs
  local t0=$SECONDS
  start_namesrv "$lib" || die "name server failed to start"
  start_proxy "$lib" || die "broker + proxy failed to start"
  log "ready in $((SECONDS - t0))s: name server 127.0.0.1:$NAMESRV_PORT, broker 127.0.0.1:$BROKER_PORT, gRPC proxy 127.0.0.1:$GRPC_PORT (data $RMQ_HOME)"
}

stop_one() {
  local name="$1" pidfn="$2" file="$3" pid deadline
  if ! pid="$("$pidfn")"; then
    rm -f "$RUN_DIR/$file.pid"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not exit within 60s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$RUN_DIR/$file.pid"
}

cmd_stop() {
  # Broker first: it unregisters from the name server on the way out.
  stop_one "broker + proxy" proxy_pid proxy
  stop_one "name server" namesrv_pid namesrv
}

rss_mib() { awk '/VmRSS/ { printf "%d MiB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

cmd_status() {
  local rc=0 pid
  if pid="$(namesrv_pid)"; then
    echo "name server     running  pid $pid  rss $(rss_mib "$pid")  127.0.0.1:$NAMESRV_PORT"
  else
    echo "name server     stopped"
    rc=3
  fi
  if pid="$(proxy_pid)"; then
    echo "broker + proxy  running  pid $pid  rss $(rss_mib "$pid")  broker 127.0.0.1:$BROKER_PORT, gRPC 127.0.0.1:$GRPC_PORT"
  else
    echo "broker + proxy  stopped"
    rc=3
  fi
  echo "data            $RMQ_HOME"
  return $rc
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start)
    shift
    cmd_start "$@"
    ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
