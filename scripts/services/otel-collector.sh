# An OpenTelemetry collector (rotel, from PyPI) for taskwire-otel's tests. Sourced by scripts/test.
#
# It receives OTLP over HTTP on a free port, writes every span, log record and metric point it
# receives to its log file (debug exporter, detailed) and drops them (blackhole exporter). Tests
# read that file to check what the collector actually received.
#
# Exports:
#   TASKWIRE_TEST_OTLP_HTTP   base URL of the OTLP/HTTP receiver (http://127.0.0.1:PORT)
#   TASKWIRE_TEST_OTLP_LOG    the collector's log file (its debug output)
#   TASKWIRE_TEST_ROTEL_AGENT the rotel-agent binary, for tests that start and kill their own

SERVICES+=(otel_collector)

OTEL_COLLECTOR_ROTEL_VERSION="0.0.1a15"

start_otel_collector() {
  local venv="$TASKWIRE_TOOLS/rotel-$OTEL_COLLECTOR_ROTEL_VERSION"
  pip_venv "$venv" rotel "$OTEL_COLLECTOR_ROTEL_VERSION" rotel "$venv/bin/python"
  local agent
  agent="$("$venv/bin/python" -c 'import rotel, os; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))')"
  if [ ! -x "$agent" ]; then
    echo "taskwire: rotel-agent not found at $agent" >&2
    return 1
  fi

  local dir="$TASKWIRE_RUN/otel-collector"
  mkdir -p "$dir"
  local grpc http
  grpc="$(free_port)"
  http="$(free_port)"
  while [ "$http" = "$grpc" ]; do http="$(free_port)"; done
  OTEL_COLLECTOR_PID_FILE="$dir/rotel.pid"
  OTEL_COLLECTOR_LOG="$dir/rotel.log"
  "$agent" start --daemon \
    --otlp-grpc-endpoint "127.0.0.1:$grpc" \
    --otlp-http-endpoint "127.0.0.1:$http" \
    --pid-file "$OTEL_COLLECTOR_PID_FILE" \
    --log-file "$OTEL_COLLECTOR_LOG" \
    --debug-log traces --debug-log metrics --debug-log logs \
    --debug-log-verbosity detailed \
    --exporter blackhole

  # Ready when an empty export is accepted.
  local url="http://127.0.0.1:$http"
  local i
  for ((i = 0; i < 100; i++)); do
    if python3 - "$url/v1/traces" <<'EOF' 2>/dev/null; then
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=b'{"resourceSpans":[]}',
                             headers={"Content-Type": "application/json"}, method="POST")
sys.exit(0 if urllib.request.urlopen(req, timeout=1).status == 200 else 1)
EOF
      break
    fi
    sleep 0.1
  done
  if ((i == 100)); then
    service_failed "the OpenTelemetry collector (rotel)" "did not answer on $url within 10 s" "$OTEL_COLLECTOR_LOG"
    return
  fi

  export TASKWIRE_TEST_OTLP_HTTP="$url"
  export TASKWIRE_TEST_OTLP_LOG="$OTEL_COLLECTOR_LOG"
  export TASKWIRE_TEST_ROTEL_AGENT="$agent"
  echo "taskwire: OpenTelemetry collector on $url (log: $OTEL_COLLECTOR_LOG)" >&2
}

stop_otel_collector() {
  local pid
  pid="$(cat "${OTEL_COLLECTOR_PID_FILE:-/nonexistent}" 2>/dev/null || true)"
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
}
