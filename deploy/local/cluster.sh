#!/usr/bin/env bash
# A whole cluster on one machine, as separate processes: nats-server with
# JetStream, a coordinator, and N trainers (make cluster-up / cluster-down).
# State lives in .cluster/: the JetStream store (journals survive a
# cluster-down/up), logs, pids, the bearer token, and prometheus.yml, a
# Prometheus configuration that scrapes every process of this cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${CLUSTER_DIR:-.cluster}
NATS_PORT=${NATS_PORT:-4222}
LISTEN=${LISTEN:-127.0.0.1:50051}
TRAINERS=${TRAINERS:-2}
# /metrics of the coordinator on METRICS_PORT, of trainer i on METRICS_PORT+i; 0: any free ports.
METRICS_PORT=${METRICS_PORT:-9464}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-5s}
NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)

up() {
  [ -x "$NATS_SERVER" ] || { echo "nats-server not found: apt-get install nats-server" >&2; exit 2; }
  [ -f "$DIR/pids" ] && { echo "a cluster is already up (make cluster-down first)" >&2; exit 2; }
  mkdir -p "$DIR/logs"
  [ -s "$DIR/token" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$DIR/token")
  "$NATS_SERVER" -js -sd "$DIR/nats" -a 127.0.0.1 -p "$NATS_PORT" > "$DIR/logs/nats.log" 2>&1 &
  echo $! >> "$DIR/pids"
  for _ in $(seq 50); do grep -q "Server is ready" "$DIR/logs/nats.log" && break; sleep 0.1; done
  grep -q "Server is ready" "$DIR/logs/nats.log" || { echo "nats-server did not start; see $DIR/logs/nats.log" >&2; down; exit 1; }
  node bin/cellsweep.mjs coordinator --nats "nats://127.0.0.1:$NATS_PORT" --listen "$LISTEN" \
    --token-file "$DIR/token" --data-root "$PWD" --metrics-listen "127.0.0.1:$METRICS_PORT" \
    > "$DIR/logs/coordinator.out" 2> "$DIR/logs/coordinator.log" &
  echo $! >> "$DIR/pids"
  for i in $(seq "$TRAINERS"); do
    port=$([ "$METRICS_PORT" = 0 ] && echo 0 || echo $((METRICS_PORT + i)))
    node bin/cellsweep.mjs trainer --nats "nats://127.0.0.1:$NATS_PORT" --id "trainer-$i" --metrics-listen "127.0.0.1:$port" \
      > "$DIR/logs/trainer-$i.out" 2> "$DIR/logs/trainer-$i.log" &
    echo $! >> "$DIR/pids"
  done
  for _ in $(seq 100); do grep -q listening "$DIR/logs/coordinator.out" && break; sleep 0.1; done
  grep -q listening "$DIR/logs/coordinator.out" || { echo "the coordinator did not start; see $DIR/logs/coordinator.log" >&2; down; exit 1; }
  for i in $(seq "$TRAINERS"); do
    for _ in $(seq 300); do grep -q '"ready"' "$DIR/logs/trainer-$i.out" && break; sleep 0.1; done
    grep -q '"ready"' "$DIR/logs/trainer-$i.out" || { echo "trainer $i did not start; see $DIR/logs/trainer-$i.log" >&2; down; exit 1; }
  done
  write_prometheus_config
  echo "cluster up: nats://127.0.0.1:$NATS_PORT, coordinator $LISTEN, $TRAINERS trainers (logs in $DIR/logs)"
  echo "submit a sweep:  CELLSWEEP_TOKEN=\$(cat $DIR/token) node bin/cellsweep.mjs sweep FILE --coordinator $LISTEN"
  echo "(dataset paths in FILE are relative to $PWD, as the trainers see them)"
  echo "metrics: prometheus --config.file=$DIR/prometheus.yml, then import deploy/grafana/cellsweep.json into Grafana"
}

# The addresses each process printed in its JSON start line ("metrics":"HOST:PORT").
metrics_address() { sed -n 's/.*"metrics":"\([^"]*\)".*/\1/p' "$1" | head -1; }

write_prometheus_config() {
  local trainers=""
  for i in $(seq "$TRAINERS"); do trainers="$trainers'$(metrics_address "$DIR/logs/trainer-$i.out")', "; done
  cat > "$DIR/prometheus.yml" <<YAML
# Written by deploy/local/cluster.sh for this cluster's processes.
global:
  scrape_interval: $SCRAPE_INTERVAL
  evaluation_interval: $SCRAPE_INTERVAL
rule_files:
  - $PWD/deploy/prometheus/rules.yml
scrape_configs:
  - job_name: cellsweep-coordinator
    static_configs:
      - targets: ['$(metrics_address "$DIR/logs/coordinator.out")']
  - job_name: cellsweep-trainer
    static_configs:
      - targets: [${trainers%, }]
YAML
}

down() {
  [ -f "$DIR/pids" ] || { echo "no cluster is up"; return 0; }
  # Reverse order: trainers hand their runs back, the coordinator leaves them queued, NATS stores it all.
  tac "$DIR/pids" | while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$DIR/pids"
    [ $alive = 0 ] && break
    sleep 0.1
  done
  rm -f "$DIR/pids"
  echo "cluster down (state kept in $DIR; rm -rf $DIR to forget it)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
