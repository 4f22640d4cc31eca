#!/usr/bin/env bash
# A throw-away single-node Ceph cluster on 127.0.0.1 for the S3 tests: one
# monitor, one memstore OSD, one radosgw, no cephx. Everything lives in
# RGW_DIR (default /tmp/dsbackup-rgw); nothing outside it is touched.
#
#   test/s3/rgw.sh start   start it (or reuse a running one), then print the env
#   test/s3/rgw.sh env     print AWS_* lines for a running cluster (exit 1 if none)
#   test/s3/rgw.sh stop    stop radosgw, then the OSD, then the monitor, by PID
#   test/s3/rgw.sh restart-gateway   start radosgw again after a test killed it (data kept)
#
# Settings (environment): RGW_DIR, RGW_PORT (7480), RGW_MON_PORT (46789),
# RGW_MEMSTORE_MIB (3072: memstore keeps every object in RAM).
set -euo pipefail

DIR=${RGW_DIR:-/tmp/dsbackup-rgw}
PORT=${RGW_PORT:-7480}
MON_PORT=${RGW_MON_PORT:-46789}
MEM_MIB=${RGW_MEMSTORE_MIB:-3072}
# Fixed keys of the throw-away user (not secrets: this cluster lives for one test run).
ACCESS_KEY=DSBACKUPTESTACCESSKEY
SECRET_KEY=dsbackup-test-secret-key-0123456789abcdef
CONF=$DIR/ceph.conf

say() { echo "rgw.sh: $*" >&2; }
die() { say "$*"; exit 1; }

print_env() {
  echo "AWS_ENDPOINT_URL=http://127.0.0.1:$PORT"
  echo "AWS_ACCESS_KEY_ID=$ACCESS_KEY"
  echo "AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
  echo "AWS_REGION=us-east-1"
  echo "RGW_PID=$(cat "$DIR/run/rgw.pid" 2>/dev/null || echo)"
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# An S3 answer (any HTTP status) from the gateway: it is up.
rgw_answers() { curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/" 2>/dev/null; }

stop_one() { # pidfile name
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -CONT "$pid" 2>/dev/null || true # a test may have left it SIGSTOPped
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { say "$2 ($pid) ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

stop_daemons() {
  stop_one "$DIR/run/rgw.pid" radosgw
  stop_one "$DIR/run/osd.pid" ceph-osd
  stop_one "$DIR/run/mon.pid" ceph-mon
}

cmd_stop() {
  stop_daemons
  rm -rf "$DIR"
}

cmd_start() {
  if pid_alive "$DIR/run/rgw.pid" && rgw_answers; then print_env; return 0; fi
  for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
    command -v $tool >/dev/null || die "$tool not installed (apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw curl)"
  done
  cmd_stop
  # A failed start leaves nothing running (the logs stay in $DIR).
  trap 'st=$?; [ $st -ne 0 ] && stop_daemons' EXIT
  local t0=$SECONDS fsid osd_uuid
  mkdir -p "$DIR"/{run,log,mon/ceph-a,osd/ceph-0,rgw}
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$MON_PORT
ms_bind_msgr1 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# Without this radosgw loops on "get_initial_auth_request returned -13".
ms_mon_client_mode = crc secure
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
mon_data = $DIR/mon/\$cluster-\$id
osd_data = $DIR/osd/\$cluster-\$id
osd_objectstore = memstore
memstore_device_bytes = $((MEM_MIB * 1024 * 1024))
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
# Deleted data is otherwise freed after 2 hours, and a full memstore hangs every write.
rgw_gc_obj_min_wait = 1
rgw_gc_processor_period = 5
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_data = $DIR/rgw
EOF
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" 2>>"$DIR/log/setup.log"
  ceph-mon -c "$CONF" -i a --pid-file "$DIR/run/mon.pid" 2>>"$DIR/log/setup.log"
  ceph -c "$CONF" --connect-timeout 20 osd new "$osd_uuid" 0 >/dev/null 2>>"$DIR/log/setup.log" || die "monitor did not answer (see $DIR/log)"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$DIR/log/setup.log" >/dev/null
  ceph-osd -c "$CONF" -i 0 --pid-file "$DIR/run/osd.pid" 2>>"$DIR/log/setup.log"
  radosgw -c "$CONF" -n client.rgw.a --pid-file "$DIR/run/rgw.pid" 2>>"$DIR/log/setup.log"
  for _ in $(seq 1 600); do rgw_answers && break; sleep 0.1; done
  rgw_answers || die "radosgw did not answer on port $PORT within 60 s (see $DIR/log)"
  radosgw-admin -c "$CONF" user create --uid=dsbackup --display-name=dsbackup \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null 2>>"$DIR/log/setup.log" || die "radosgw-admin user create failed (see $DIR/log)"
  # Warm-up: the first write creates the data pools (seconds); do it here, not in a timed test.
  local sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -s -f -m 60)
  curl "${sig[@]}" -o /dev/null -X PUT "http://127.0.0.1:$PORT/warm-up" || die "creating the warm-up bucket failed (see $DIR/log)"
  echo warm >"$DIR/warm-up"
  curl "${sig[@]}" -o /dev/null -T "$DIR/warm-up" "http://127.0.0.1:$PORT/warm-up/object" || die "the warm-up write failed (see $DIR/log)"
  curl "${sig[@]}" -o /dev/null -X DELETE "http://127.0.0.1:$PORT/warm-up/object" || true
  # ...and the first multipart upload creates more (its first part took over 1.5 s): one of those too.
  local obj="http://127.0.0.1:$PORT/warm-up/multipart" upload etag
  upload=$(curl "${sig[@]}" -X POST "$obj?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
  [ -n "$upload" ] || die "the warm-up multipart upload failed (see $DIR/log)"
  etag=$(curl "${sig[@]}" -o /dev/null -D - -T "$DIR/warm-up" "$obj?partNumber=1&uploadId=$upload" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: *//p')
  curl "${sig[@]}" -o /dev/null -X POST --data-binary "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>$etag</ETag></Part></CompleteMultipartUpload>" \
    "$obj?uploadId=$upload" || die "completing the warm-up multipart upload failed (see $DIR/log)"
  curl "${sig[@]}" -o /dev/null -X DELETE "$obj" || true
  say "started in $((SECONDS - t0)) s"
  print_env
}

case "${1:-}" in
  start) cmd_start ;;
  restart-gateway)
    pid_alive "$DIR/run/rgw.pid" && die "radosgw is still running"
    pid_alive "$DIR/run/osd.pid" || die "no cluster in $DIR to restart radosgw for"
    radosgw -c "$CONF" -n client.rgw.a --pid-file "$DIR/run/rgw.pid" 2>>"$DIR/log/setup.log"
    for _ in $(seq 1 600); do rgw_answers && break; sleep 0.1; done
    rgw_answers || die "radosgw did not answer on port $PORT within 60 s (see $DIR/log)"
    print_env ;;
  stop) cmd_stop ;;
  env) pid_alive "$DIR/run/rgw.pid" || die "no radosgw running in $DIR"; print_env ;;
  *) die "usage: rgw.sh start|stop|env" ;;
esac
