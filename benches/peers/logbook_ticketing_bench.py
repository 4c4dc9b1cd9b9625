"""Throughput benchmark for logbook.ticketing.TicketingHandler (the seed system).

Logs N ERROR records from 10 distinct call sites (10 different source lines,
same channel, same level) through TicketingHandler into SQLite, then reports
records/s, per-call latency percentiles, ticket/occurrence counts, DB size and
peak RSS.

Usage:
  python logbook_ticketing_bench.py file   [N]   # sqlite:///<tmpdir>/tickets.db
  python logbook_ticketing_bench.py memory [N]   # sqlite:// (in-memory)
  python logbook_ticketing_bench.py file_wal [N] # file, but WAL + synchronous=NORMAL
  python logbook_ticketing_bench.py baseline [N] # logbook with a no-op handler (dispatch cost only)
  python logbook_ticketing_bench.py jsononly [N] # hash + to_dict + json.dumps, no DB

The database goes into a new folder under $LOGBOOK_BENCH_DIR (default: the system's temporary
folder). scripts/bench-tickets runs it beside taskwire-tickets' benchmark.
"""
import json
import os
import resource
import sys
import tempfile
import time

import logbook
import sqlalchemy
from logbook.ticketing import TicketingHandler

mode = sys.argv[1] if len(sys.argv) > 1 else "file"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
SITES = 10

log = logbook.Logger("bench.app")


# ten distinct call sites: each on its own line => 10 distinct hashes
def s0(i): log.error("site 0 failed for item {}", i)
def s1(i): log.error("site 1 failed for item {}", i)
def s2(i): log.error("site 2 failed for item {}", i)
def s3(i): log.error("site 3 failed for item {}", i)
def s4(i): log.error("site 4 failed for item {}", i)
def s5(i): log.error("site 5 failed for item {}", i)
def s6(i): log.error("site 6 failed for item {}", i)
def s7(i): log.error("site 7 failed for item {}", i)
def s8(i): log.error("site 8 failed for item {}", i)
def s9(i): log.error("site 9 failed for item {}", i)


sites = [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9]


class NoopHandler(logbook.Handler):
    def emit(self, record):
        pass


class JsonOnlyHandler(TicketingHandler.__mro__[1]):  # TicketingBaseHandler
    """Does the hash + to_dict + json.dumps work but no DB I/O."""

    def __init__(self):
        super().__init__(hash_salt="apphash-generic")
        self.n = 0

    def emit(self, record):
        h = self.hash_record(record).encode("utf-8")
        json.dumps(record.to_dict(json_safe=True))
        self.n += 1


tmpdir = tempfile.mkdtemp(prefix="lbtick-", dir=os.environ.get("LOGBOOK_BENCH_DIR"))
dbpath = os.path.join(tmpdir, "tickets.db")
if mode == "file":
    handler = TicketingHandler("sqlite:///" + dbpath, level=logbook.ERROR)
elif mode == "file_wal":
    # same as "file" but with PRAGMA journal_mode=WAL, synchronous=NORMAL on every connection
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_conn, rec):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    handler = TicketingHandler("sqlite:///" + dbpath, level=logbook.ERROR)
elif mode == "memory":
    handler = TicketingHandler("sqlite://", level=logbook.ERROR)
elif mode == "baseline":
    handler = NoopHandler(level=logbook.ERROR)
elif mode == "jsononly":
    handler = JsonOnlyHandler()
else:
    raise SystemExit("unknown mode " + mode)

lat = []
with handler.applicationbound():
    # warm-up excluded? no: we include everything, first call creates tickets
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(N):
        a = time.perf_counter_ns()
        sites[i % SITES](i)
        lat.append(time.perf_counter_ns() - a)
    t1 = time.perf_counter()
    c1 = time.process_time()

elapsed = t1 - t0
lat.sort()


def pct(p):
    return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] / 1000.0


res = {
    "mode": mode,
    "N": N,
    "logbook": __import__("importlib.metadata").metadata.version("logbook"),
    "sqlalchemy": sqlalchemy.__version__,
    "python": sys.version.split()[0],
    "elapsed_s": round(elapsed, 3),
    "records_per_s": round(N / elapsed, 1),
    "cpu_s": round(c1 - c0, 3),
    "cpu_us_per_record": round((c1 - c0) / N * 1e6, 1),
    "lat_us_p50": round(pct(50), 1),
    "lat_us_p90": round(pct(90), 1),
    "lat_us_p99": round(pct(99), 1),
    "lat_us_max": round(lat[-1] / 1000.0, 1),
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
}
if mode in ("file", "file_wal", "memory"):
    db = handler.db
    res["tickets"] = db.count_tickets()
    from sqlalchemy import func, select

    with db.engine.begin() as conn:
        res["occurrences"] = conn.scalar(select(func.count()).select_from(db.occurrences))
        res["sum_occurrence_count"] = conn.scalar(select(func.sum(db.tickets.c.occurrence_count)))
        res["avg_data_bytes"] = round(conn.scalar(select(func.avg(func.length(db.occurrences.c.data)))), 1)
        sample = conn.execute(select(db.occurrences.c.data).limit(1)).scalar()
        trow = conn.execute(db.tickets.select().limit(1)).one()
    res["sample_ticket_row"] = {k: str(v) for k, v in trow._mapping.items()}
    res["sample_occurrence_data"] = json.loads(sample)
    if mode in ("file", "file_wal"):
        res["db_file_bytes"] = os.path.getsize(dbpath)
        res["db_path"] = dbpath
        with db.engine.begin() as conn:
            res["journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            res["synchronous"] = conn.exec_driver_sql("PRAGMA synchronous").scalar()
print(json.dumps(res, indent=1, default=str))
