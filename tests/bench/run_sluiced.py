# Runs `sluiced run --config CONFIG` until sluice_records_out_total{pipeline="p"} reaches N, then stops it with
# SIGTERM. Prints "rate_wall_s total_wall_s cpu_s vmhwm_kb bytes_out": total_wall_s from the start to the last
# commit; rate_wall_s from the first log line containing --from-line (the start without it) to the last commit;
# cpu and peak RSS read from /proc just before SIGTERM. Shared by the benchmark scripts in this folder.
import argparse, atexit, http.client, os, signal, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("config")
ap.add_argument("state")
ap.add_argument("records", type=int)
ap.add_argument("log")
ap.add_argument("--from-line", help="count the rate from the first log line holding this text")
ap.add_argument("--poll", type=float, default=0.05, help="seconds between scrapes of /metrics")
args = ap.parse_args()
n = args.records

def fail(why):
    sys.stderr.write(why + "\n")
    with open(args.log) as f: sys.stderr.write(f.read()[-4000:])
    sys.exit(1)

def metric(body, name):
    prefix = name + '{pipeline="p"} '
    for line in body.splitlines():
        if line.startswith(prefix): return float(line[len(prefix):])
    return 0.0

start = time.monotonic()
proc = subprocess.Popen([args.binary, "run", "--config", args.config], stdout=subprocess.DEVNULL, stderr=open(args.log, "w"))
atexit.register(lambda: proc.poll() is None and proc.kill())  # never leave it running behind a failure
addr = os.path.join(args.state, "http.address")
while not (os.path.exists(addr) and os.path.getsize(addr) > 0):
    if proc.poll() is not None: fail("sluiced exited with %d before listening" % proc.returncode)
    if time.monotonic() - start > 30: proc.kill(); fail("no http.address after 30 s")
    time.sleep(0.01)
rate_start = start
if args.from_line:
    while args.from_line not in open(args.log).read():
        if proc.poll() is not None: fail("sluiced exited before logging '%s'" % args.from_line)
        if time.monotonic() - start > 60: fail("no '%s' after 60 s" % args.from_line)
        time.sleep(0.005)
    rate_start = time.monotonic()
host, port = open(addr).read().strip().rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=10)
def died():
    proc.wait(timeout=10)
    how = "was killed by signal %d" % -proc.returncode if proc.returncode < 0 else "exited with %d" % proc.returncode
    fail("sluiced %s before committing %d records" % (how, n))
while True:
    try:
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
    except (OSError, http.client.HTTPException):
        died()
    if metric(body, "sluice_records_out_total") >= n: break
    if proc.poll() is not None: died()
    if time.monotonic() - start > 600: proc.kill(); fail("not %d records after 600 s" % n)
    time.sleep(args.poll)
end = time.monotonic()
with open("/proc/%d/stat" % proc.pid) as f: fields = f.read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)
with open("/proc/%d/status" % proc.pid) as f: hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
records, bytes_out = metric(body, "sluice_records_out_total"), metric(body, "sluice_bytes_out_total")
conn.close()
proc.send_signal(signal.SIGTERM)
try: rc = proc.wait(timeout=60)
except subprocess.TimeoutExpired: proc.kill(); fail("sluiced did not stop within 60 s of SIGTERM")
if rc != 0: fail("sluiced exited with %d after SIGTERM" % rc)
if records != n: fail("sluiced committed %d records, not %d" % (records, n))
print("%.3f %.3f %.2f %d %d" % (end - rate_start, end - start, cpu, hwm, bytes_out))
