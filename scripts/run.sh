#!/usr/bin/env bash
# Starts the provider sandbox, the task worker and the portal; prints the URLs and demo logins; stops all on Ctrl-C.
# PG=portone: the PortOne emulator too, on PORTONE_PORT, and the portal pays through the PortOne adapter against it
# (its payment window included); otherwise the TEST gateway.
set -euo pipefail
PORTAL_PORT=${1:-8000}
SANDBOX_PORT=${2:-8001}
PG=${PG:-test}
PORTONE_PORT=${PORTONE_PORT:-8002}
PY=.venv/bin/python
mkdir -p var/log
# the portal's processes talk to the sandbox started below
export MILEAGE_API_BASE=${MILEAGE_API_BASE:-http://127.0.0.1:${SANDBOX_PORT}}
export MILEAGE_SERVICE_BASE=${MILEAGE_SERVICE_BASE:-http://127.0.0.1:${SANDBOX_PORT}}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

SANDBOX_DEV=1 SANDBOX_TEST_CONTROLS=1 SANDBOX_SHOP_URL=${SANDBOX_SHOP_URL:-http://127.0.0.1:${PORTAL_PORT}/} \
  DJANGO_SETTINGS_MODULE=provider_sandbox.settings .venv/bin/gunicorn provider_sandbox.wsgi \
  --bind "127.0.0.1:${SANDBOX_PORT}" --workers 1 --threads 8 >var/log/sandbox.log 2>&1 & pids+=($!)
for _ in $(seq 1 60); do curl -fs -o /dev/null "http://127.0.0.1:${SANDBOX_PORT}/" && break; sleep 0.5; done
# Three months of demo orders in every state, placed through the real services against the sandbox (once).
$PY manage.py load_demo_orders || echo "demo orders could not be placed (see above); the shop runs without them"
gateway_line="  Payments                     TEST-PG (테스트 결제, nothing is charged)"
if [ "$PG" = "portone" ]; then
  # the emulator's own credentials, handed to the portal as a merchant's PORTONE_* would be (README, Payments)
  export PORTONE_EMULATOR_API_SECRET=${PORTONE_EMULATOR_API_SECRET:-emulator-secret}
  export PORTONE_EMULATOR_STORE_ID=${PORTONE_EMULATOR_STORE_ID:-store-emulator}
  # the 가상계좌 deposit test control sends PortOne's webhook to this portal
  PORTONE_EMULATOR_WEBHOOK_URL=${PORTONE_EMULATOR_WEBHOOK_URL:-http://127.0.0.1:${PORTAL_PORT}/payments/webhooks/portone/} \
  PORTONE_EMULATOR_TEST_CONTROLS=1 PYTHONPATH=. .venv/bin/gunicorn portone_emulator.app:application \
    --bind "127.0.0.1:${PORTONE_PORT}" --workers 1 --threads 8 >var/log/portone.log 2>&1 & pids+=($!)
  export PORTONE_API_SECRET=$PORTONE_EMULATOR_API_SECRET PORTONE_STORE_ID=$PORTONE_EMULATOR_STORE_ID
  export PORTONE_CHANNEL_KEY=channel-key-emulator PORTONE_API_BASE=http://127.0.0.1:${PORTONE_PORT}
  export PORTONE_WEBHOOK_SECRET=whsec_$(printf 'emulator-webhook-secret' | base64)
  export PORTONE_BROWSER_SDK_URL=http://127.0.0.1:${PORTONE_PORT}/v2/browser-sdk.js
  for _ in $(seq 1 60); do curl -fs -o /dev/null "http://127.0.0.1:${PORTONE_PORT}/v2/browser-sdk.js" && break; sleep 0.5; done
  gateway_line="  PortOne emulator (payments)  http://127.0.0.1:${PORTONE_PORT}/  (PORTONE_API_BASE; its window: /window)"
fi
$PY manage.py db_worker --interval 1 >var/log/worker.log 2>&1 & pids+=($!)
$PY manage.py outbox_scheduler >var/log/scheduler.log 2>&1 & pids+=($!)
$PY manage.py runserver "127.0.0.1:${PORTAL_PORT}" --noreload >var/log/portal.log 2>&1 & pids+=($!)

for _ in $(seq 1 60); do
  if curl -fs -o /dev/null "http://127.0.0.1:${PORTAL_PORT}/" && curl -fs -o /dev/null "http://127.0.0.1:${SANDBOX_PORT}/"; then break; fi
  sleep 0.5
done

cat <<MSG

  마일리지 샵 (portal)        http://127.0.0.1:${PORTAL_PORT}/
  Wagtail CMS                  http://127.0.0.1:${PORTAL_PORT}/cms/
  Provider sandbox ("Naver")   http://127.0.0.1:${SANDBOX_PORT}/
  Partner center (TEST)        http://127.0.0.1:${SANDBOX_PORT}/partner/1TWXDZ/
${gateway_line}

  Demo logins (portal)
    admin     / admin1234!      superuser
    operator  / operator1234!   운영자 (operators)
    editor    / editor1234!     가맹점 편집자 (merchant editors)
    privacy   / privacy1234!    개인정보 보호책임자 (access log, reveal)
    hong      / hong1234!       member buyer 홍길동
  Demo logins (sandbox)
    naverbuyer / demo1234!      Naver buyer, 15,500원 available
    merchant TEST: API ID 1TWXDZ, hash key aaf23a53f426561f62e71139c5f27adfd67da711

  Logs in var/log/. Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
