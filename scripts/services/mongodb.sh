# A MongoDB-wire server (SecantusDB, from PyPI) for taskwire-tickets' MongoDB store tests.
# Sourced by scripts/test.
#
# It runs standalone (no replica set: its oplog would slow writes down run after run) on a free
# port, with its data under $TASKWIRE_RUN/mongo, and is stopped by pid when scripts/test exits.
#
# Exports:
#   TASKWIRE_TEST_MONGODB_URI   mongodb://127.0.0.1:PORT (tests add their own database name)
#   TASKWIRE_TEST_SECANTUSD     the secantusd-py program, for tests that stop and restart a
#                               server of their own
#   TASKWIRE_TEST_MONGODB_LOG   the server's log file

SERVICES+=(mongodb)

MONGODB_SECANTUS_VERSION="0.7.0b3"

start_mongodb() {
  local venv="$TASKWIRE_TOOLS/secantusdb-$MONGODB_SECANTUS_VERSION"
  pip_venv "$venv" SecantusDB "$MONGODB_SECANTUS_VERSION" pymongo "$venv/bin/secantusd-py"

  local dir="$TASKWIRE_RUN/mongo"
  mkdir -p "$dir/data"
  local port
  port="$(free_port)"
  MONGODB_LOG="$dir/secantusd.log"
  "$venv/bin/secantusd-py" --host 127.0.0.1 --port "$port" --storage-path "$dir/data" --standalone \
    >"$MONGODB_LOG" 2>&1 &
  MONGODB_PID=$!

  # Ready when it answers a ping (pymongo comes with SecantusDB).
  local uri="mongodb://127.0.0.1:$port"
  local i
  for ((i = 0; i < 60; i++)); do
    if ! kill -0 "$MONGODB_PID" 2>/dev/null; then
      break
    fi
    if "$venv/bin/python" - "$uri" <<'EOF' 2>/dev/null; then
import sys
from pymongo import MongoClient
MongoClient(sys.argv[1], serverSelectionTimeoutMS=500, connectTimeoutMS=500).admin.command("ping")
EOF
      break
    fi
    sleep 0.5
  done
  if ((i == 60)) || ! kill -0 "$MONGODB_PID" 2>/dev/null; then
    service_failed SecantusDB "did not answer a ping on $uri within 30 s" "$MONGODB_LOG"
    return
  fi

  export TASKWIRE_TEST_MONGODB_URI="$uri"
  export TASKWIRE_TEST_SECANTUSD="$venv/bin/secantusd-py"
  export TASKWIRE_TEST_MONGODB_LOG="$MONGODB_LOG"
  echo "taskwire: SecantusDB (MongoDB wire protocol) on $uri (pid $MONGODB_PID, log: $MONGODB_LOG)" >&2
}

stop_mongodb() {
  local pid="${MONGODB_PID:-}"
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
    # It went away during the run: say so, with the end of its log, since the run's folder
    # (and the log in it) is removed next.
    echo "taskwire: SecantusDB (pid $pid) exited during the run; the end of its log:" >&2
    tail -n 40 "$MONGODB_LOG" >&2 || true
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        return 0
      fi
      sleep 0.1
    done
    echo "taskwire: SecantusDB (pid $pid) still running 10 s after SIGTERM; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
