#!/usr/bin/env bash
# Starts MariaDB and Redis on this machine if they are not answering (the commands the machine's
# own image uses), then waits until both answer. Idempotent.
set -euo pipefail

wait_for() { # name, command, seconds
  local name=$1 cmd=$2 secs=$3
  for _ in $(seq 1 "$secs"); do
    if eval "$cmd" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
    sleep 1
  done
  echo "$name did not come up within ${secs}s" >&2
  return 1
}

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping" 30

if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
wait_for MariaDB "mysqladmin -h 127.0.0.1 -uroot ping" 60
