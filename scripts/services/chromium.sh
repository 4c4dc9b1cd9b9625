# Headless Chromium behind chromedriver (Debian's `chromium` and `chromium-driver`), for the
# web UI's browser tests (taskwire-web). Sourced by scripts/test.
#
# Installs the two packages with apt when either program is missing (no browser download works
# here: the test tools' own downloads fail), then starts chromedriver on a free port of
# 127.0.0.1 and waits until it answers /status. The tests start Chromium through it, headless,
# with a fresh profile each.
#
# Exports:
#   TASKWIRE_TEST_WEBDRIVER   http://127.0.0.1:PORT (chromedriver's WebDriver endpoint)
#   TASKWIRE_TEST_CHROMIUM    the Chromium program chromedriver should start

SERVICES+=(chromium)

start_chromium() {
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "taskwire: installing Debian's chromium and chromium-driver" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2
  fi

  local dir="$TASKWIRE_RUN/chromium"
  mkdir -p "$dir"
  local port
  port="$(free_port)"
  CHROMEDRIVER_LOG="$dir/chromedriver.log"
  chromedriver --port="$port" --allowed-ips=127.0.0.1 >"$CHROMEDRIVER_LOG" 2>&1 &
  CHROMEDRIVER_PID=$!

  local url="http://127.0.0.1:$port"
  local i
  for ((i = 0; i < 60; i++)); do
    if ! kill -0 "$CHROMEDRIVER_PID" 2>/dev/null; then
      break
    fi
    if python3 - "$url/status" <<'PY' 2>/dev/null; then
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(0 if json.load(r)["value"]["ready"] else 1)
PY
      break
    fi
    sleep 0.25
  done
  if ((i == 60)) || ! kill -0 "$CHROMEDRIVER_PID" 2>/dev/null; then
    echo "taskwire: chromedriver did not answer on $url within 15 s; its log:" >&2
    cat "$CHROMEDRIVER_LOG" >&2 || true
    return 1
  fi

  export TASKWIRE_TEST_WEBDRIVER="$url"
  export TASKWIRE_TEST_CHROMIUM="$(command -v chromium)"
  echo "taskwire: chromedriver on $url (pid $CHROMEDRIVER_PID, log: $CHROMEDRIVER_LOG)" >&2
}

stop_chromium() {
  local pid="${CHROMEDRIVER_PID:-}"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
}
