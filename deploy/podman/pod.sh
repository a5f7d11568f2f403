#!/bin/sh
# Swarm scaled out in one podman pod: PostgreSQL, three api processes and a worker, from the
# swarm image (docs/deployment.md, "Container image"). The containers of a pod share one network
# namespace: each hub listens on its own port, PostgreSQL on 127.0.0.1:5432 inside the pod only,
# and the api and worker ports are published on the host.
#
#   deploy/podman/pod.sh up                  create and start it; waits until every hub is healthy
#   deploy/podman/pod.sh status              the pod's containers
#   deploy/podman/pod.sh down [--volumes]    stop (SIGTERM, drained) and remove it; --volumes also
#                                            removes its data volumes and secrets
#
# Settings (environment):
#   SWARM_POD          pod name, prefix of its containers, volumes and secrets     (swarm)
#   SWARM_IMAGE        the hub image (`podman build --format docker -t swarm .`)  (localhost/swarm:latest)
#   POSTGRES_IMAGE     PostgreSQL image                                  (docker.io/library/postgres:15)
#   SWARM_BIND         host address the ports are published on                     (127.0.0.1)
#   SWARM_API_PORTS    host ports of the api containers, one container each        (8080 8083 8084)
#   SWARM_WORKER_PORT  host port of the worker's /healthz, /readyz, /metrics       (8082)
#   POSTGRES_PASSWORD  the database password on first `up` (default: a random one); kept in the
#                      podman secrets <pod>-pg-password and <pod>-database (the hubs' SWARM_DATABASE)
#   SWARM_WAIT_SECONDS how long `up` waits for PostgreSQL and for each hub        (90)
#
# Inside the pod, api container N listens on port 8080 (N = 1) or 8081 + N, the worker on 8082.
# Run the CLI in any of them: podman exec swarm-api-1 swarm agents
set -eu

POD=${SWARM_POD:-swarm}
IMAGE=${SWARM_IMAGE:-localhost/swarm:latest}
PG_IMAGE=${POSTGRES_IMAGE:-docker.io/library/postgres:15}
BIND=${SWARM_BIND:-127.0.0.1}
API_PORTS=${SWARM_API_PORTS:-8080 8083 8084}
WORKER_PORT=${SWARM_WORKER_PORT:-8082}
WAIT=${SWARM_WAIT_SECONDS:-90}

die() {
  echo "pod.sh: $*" >&2
  exit 1
}

# The port api container $1 listens on inside the pod.
api_port() {
  if [ "$1" -eq 1 ]; then echo 8080; else echo $((8081 + $1)); fi
}

# Waits up to $WAIT seconds for the command "$@" to succeed; $1 names what it waits for.
wait_for() {
  what=$1
  shift
  # Its own counter: sh variables are global, and the callers loop over \$i (a shared `i` made a
  # slow first container send the loop on to a container that does not exist).
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt "$WAIT" ]; then
      # The container's last lines go with the refusal: after `down` its log is gone.
      podman logs --tail 20 "$what" >&2 2>&1 || true
      die "$what: not ready after $WAIT s (its last log lines above; podman logs $what)"
    fi
    sleep 1
  done
}

secret_exists() {
  podman secret inspect "$1" >/dev/null 2>&1
}

up() {
  podman pod exists "$POD" && die "pod $POD exists already: deploy/podman/pod.sh down first (SWARM_POD names another)"
  case $WORKER_PORT in '' | *[!0-9]*) die "SWARM_WORKER_PORT must be a port number, not '$WORKER_PORT'" ;; esac
  publish="-p $BIND:$WORKER_PORT:8082"
  n=0
  for port in $API_PORTS; do
    case $port in *[!0-9]*) die "SWARM_API_PORTS must be port numbers, not '$port'" ;; esac
    n=$((n + 1))
    publish="$publish -p $BIND:$port:$(api_port "$n")"
  done
  [ "$n" -ge 1 ] || die 'SWARM_API_PORTS names no port'

  if ! secret_exists "$POD-pg-password"; then
    password=${POSTGRES_PASSWORD:-$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32)}
    printf '%s' "$password" | podman secret create "$POD-pg-password" - >/dev/null
    printf 'postgres://swarm:%s@127.0.0.1:5432/swarm' "$password" | podman secret create "$POD-database" - >/dev/null
  fi

  # shellcheck disable=SC2086 # $publish is a list of -p options
  podman pod create --name "$POD" $publish >/dev/null
  podman run -d --pod "$POD" --name "$POD-postgres" \
    --secret "$POD-pg-password,type=env,target=POSTGRES_PASSWORD" \
    -e POSTGRES_USER=swarm -e POSTGRES_DB=swarm \
    -v "$POD-pgdata:/var/lib/postgresql/data" \
    "$PG_IMAGE" >/dev/null
  # TCP, as the hubs connect: the Unix socket answers during initdb's temporary server already.
  wait_for "$POD-postgres" podman exec "$POD-postgres" pg_isready -h 127.0.0.1 -p 5432 -U swarm -d swarm

  # The api containers share one data volume: the first to start writes /data/admin.token, which
  # the CLI in any of them reads. Every process migrates under an advisory lock; they start at once.
  i=0
  for _ in $API_PORTS; do
    i=$((i + 1))
    port=$(api_port "$i")
    podman run -d --pod "$POD" --name "$POD-api-$i" \
      --secret "$POD-database,type=env,target=SWARM_DATABASE" \
      -e SWARM_PORT="$port" -e SWARM_HUB="http://127.0.0.1:$port" -e SWARM_DRAIN_SECONDS=1 \
      -v "$POD-data:/data" \
      "$IMAGE" serve --role api >/dev/null
  done
  podman run -d --pod "$POD" --name "$POD-worker" \
    --secret "$POD-database,type=env,target=SWARM_DATABASE" \
    -e SWARM_PORT=8082 \
    -v "$POD-data:/data" \
    "$IMAGE" serve --role worker >/dev/null

  # The image's own health check, run with exec: it works whether or not podman kept the image's
  # HEALTHCHECK (OCI-format builds drop it).
  i=0
  for _ in $API_PORTS; do
    i=$((i + 1))
    wait_for "$POD-api-$i" podman exec "$POD-api-$i" node /app/deploy/image/healthcheck.cjs
  done
  wait_for "$POD-worker" podman exec "$POD-worker" node /app/deploy/image/healthcheck.cjs

  echo "pod $POD is up:"
  i=0
  for port in $API_PORTS; do
    i=$((i + 1))
    echo "  api $i     http://$BIND:$port   ($POD-api-$i)"
  done
  echo "  worker    http://$BIND:$WORKER_PORT/healthz   ($POD-worker)"
  echo "  admin:    podman exec $POD-api-1 swarm agents"
}

down() {
  volumes=false
  case ${1:-} in
    '') ;;
    --volumes) volumes=true ;;
    *) die "down takes only --volumes, not '$1'" ;;
  esac
  if podman pod exists "$POD"; then
    # SIGTERM to every hub (each drains, then exits); SIGKILL after 20 s.
    podman pod stop -t 20 "$POD" >/dev/null
    podman pod rm -f "$POD" >/dev/null
  fi
  if [ "$volumes" = true ]; then
    for v in "$POD-pgdata" "$POD-data"; do
      if podman volume exists "$v"; then podman volume rm -f "$v" >/dev/null; fi
    done
    for s in "$POD-pg-password" "$POD-database"; do
      if secret_exists "$s"; then podman secret rm "$s" >/dev/null; fi
    done
  fi
  echo "pod $POD is down$([ "$volumes" = true ] && echo ', its volumes and secrets removed')"
}

case ${1:-} in
  up) up ;;
  down)
    shift
    down "$@"
    ;;
  status) podman ps -a --pod --filter "pod=$POD" --format '{{.Names}}  {{.Status}}  {{.Ports}}' ;;
  *) die 'usage: deploy/podman/pod.sh up | status | down [--volumes]' ;;
esac
