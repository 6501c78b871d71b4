#!/usr/bin/env bash
# The production profile on one node: the portal under gunicorn (portal.settings.production, static files through
# WhiteNoise), WORKERS task workers (`manage.py db_worker`), the scheduler (safe on every node: ADR 0007), and the
# provider sandbox only when SANDBOX=1. Logs in var/log/; stops all on Ctrl-C or when one of them exits.
#
# Environment: DATABASE_URL, DJANGO_SECRET_KEY, MILEAGE_API_BASE, MILEAGE_SERVICE_BASE (required), REDIS_URL
# (several nodes), MILEAGE_API_ID / MILEAGE_HASH_KEY, DJANGO_ALLOWED_HOSTS, the HTTPS switches of
# portal/settings/production.py; PORTAL_BIND (127.0.0.1), PORTAL_PORT (8000), WEB_CONCURRENCY (gunicorn processes:
# one per core), GUNICORN_THREADS (from the provider's distance, below), WORKERS (2), SANDBOX (0), SANDBOX_PORT (8001),
# SANDBOX_DATABASE_URL.
#
# Threads per process: a placement holds its thread while it waits on the provider (one approval, sometimes an
# abort), so a process keeps its core busy only with enough threads to cover the wait. With PROVIDER_LATENCY_MS (100:
# the provider across the internet) per call, PROVIDER_CALLS (2) calls per request in the worst case and PORTAL_CPU_MS
# (22: the portal's own CPU per placement, bench/README.md and docs/capacity.md) the threads are ceil((calls × latency + cpu) / cpu),
# at least 4 and at most 64; GUNICORN_THREADS overrides it.
set -euo pipefail
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=portal.settings.production
PORTAL_BIND=${PORTAL_BIND:-127.0.0.1}
PORTAL_PORT=${PORTAL_PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8001}
WORKERS=${WORKERS:-2}
PROVIDER_LATENCY_MS=${PROVIDER_LATENCY_MS:-100}
PROVIDER_CALLS=${PROVIDER_CALLS:-2}
PORTAL_CPU_MS=${PORTAL_CPU_MS:-22}
threads=$(( (PROVIDER_CALLS * PROVIDER_LATENCY_MS + 2 * PORTAL_CPU_MS - 1) / PORTAL_CPU_MS ))
threads=$(( threads < 4 ? 4 : (threads > 64 ? 64 : threads) ))
GUNICORN_THREADS=${GUNICORN_THREADS:-$threads}
WEB_CONCURRENCY=${WEB_CONCURRENCY:-$(nproc 2>/dev/null || echo 2)}
LOG=${LOG_DIR:-var/log}
mkdir -p "$LOG"

missing=()
for name in DATABASE_URL DJANGO_SECRET_KEY MILEAGE_API_BASE MILEAGE_SERVICE_BASE; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make serve needs ${missing[*]} in the environment (README, Production)" >&2
  exit 2
fi
[ -n "${REDIS_URL:-}" ] || echo "REDIS_URL is not set: the cache is per process (fine for one node only)" >&2

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ "${SANDBOX:-0}" = "1" ]; then
  # the emulator as a stand-in provider on loopback: plain HTTP, no test controls
  SANDBOX_SSL_REDIRECT=${SANDBOX_SSL_REDIRECT:-0} DJANGO_SETTINGS_MODULE=provider_sandbox.settings \
    .venv/bin/gunicorn provider_sandbox.wsgi --bind "127.0.0.1:${SANDBOX_PORT}" --workers 1 --threads 8 \
    >"$LOG/sandbox.log" 2>&1 & pids+=($!)
fi
for n in $(seq 1 "$WORKERS"); do
  $PY manage.py db_worker --interval 1 >"$LOG/worker-$n.log" 2>&1 & pids+=($!)
done
$PY manage.py outbox_scheduler >"$LOG/scheduler.log" 2>&1 & pids+=($!)
.venv/bin/gunicorn portal.wsgi --bind "${PORTAL_BIND}:${PORTAL_PORT}" --workers "${WEB_CONCURRENCY}" \
  --threads "${GUNICORN_THREADS}" --graceful-timeout 20 --access-logfile "$LOG/portal-access.log" \
  >"$LOG/portal.log" 2>&1 & pids+=($!)

for _ in $(seq 1 60); do
  curl -fs -o /dev/null "http://127.0.0.1:${PORTAL_PORT}/healthz" && break
  sleep 0.5
done
echo "portal (production) on ${PORTAL_BIND}:${PORTAL_PORT}, ${WORKERS} workers, scheduler$( [ "${SANDBOX:-0}" = 1 ] && echo ", sandbox on 127.0.0.1:${SANDBOX_PORT}")"
curl -s "http://127.0.0.1:${PORTAL_PORT}/healthz" || true
echo
echo "Logs in ${LOG}/. Press Ctrl-C to stop."
wait -n "${pids[@]}"
