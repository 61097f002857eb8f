#!/usr/bin/python3
"""End-to-end test of the status pages in a real browser (headless Chromium + selenium).

Starts a real local cluster (3 journalnodes, 2 namenodes, 2 failoverds: the built
binaries, through scripts/start-cluster.sh) on free ports this test picks, with a
generated cluster file, then checks what a person would see on each daemon's page:
  - the namenodes' pages name one active and one standby; the failoverds' pages say
    which holds the lease;
  - after qjfs writes, the journalnodes' pages show the journal's txids moved, and
    their /metrics (opened in the browser too) count more edits;
  - after `haadmin -failover`, the pages show the other namenode active.
Stops every process it started (by the PIDs start-cluster.sh recorded).

usage: browser_test.py --source DIR --build DIR
Needs Debian's chromium, chromium-driver and python3-selenium (scripts/install-deps.sh).
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    sys.exit("browser_test: python3-selenium is missing (scripts/install-deps.sh installs it)")


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Cluster:
    def __init__(self, source, build, work):
        self.source, self.build, self.work = source, build, work
        p = free_ports(14)
        self.jn_rpc, self.jn_http = p[0:3], p[3:6]
        self.nn = {
            "nn1": {"rpc": p[6], "fo": p[7], "http": p[8], "fo_http": p[9]},
            "nn2": {"rpc": p[10], "fo": p[11], "http": p[12], "fo_http": p[13]},
        }
        self.conf = os.path.join(work, "cluster.conf")
        uri = ";".join(f"127.0.0.1:{x}" for x in self.jn_rpc)
        lines = [
            "namespace.id = 7",
            "cluster.id = qj-browser-test",
            f"journal.uri = qjournal://{uri}/ns1",
            "journal.http_ports = " + ",".join(str(x) for x in self.jn_http),
            "namenode.ids = nn1,nn2",
        ]
        for nid, v in self.nn.items():
            lines += [
                f"namenode.{nid}.host = 127.0.0.1",
                f"namenode.{nid}.rpc_port = {v['rpc']}",
                f"namenode.{nid}.failoverd_port = {v['fo']}",
                f"namenode.{nid}.http_port = {v['http']}",
                f"namenode.{nid}.failoverd_http_port = {v['fo_http']}",
            ]
        lines.append("failover.automatic = true")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.env = dict(os.environ, QJ_CLUSTER_CONF=self.conf, QJ_RUN_DIR=os.path.join(work, "run"),
                        QJ_BUILD_DIR=build, QJ_SKIP_BUILD="1")

    def start(self):
        subprocess.run([os.path.join(self.source, "scripts/start-cluster.sh")], env=self.env,
                       check=True, stdout=sys.stdout, stderr=sys.stderr, timeout=90)

    def stop(self):
        subprocess.run([os.path.join(self.source, "scripts/stop-cluster.sh")], env=self.env,
                       stdout=sys.stdout, stderr=sys.stderr, timeout=60)

    def tool(self, rel, *args):
        r = subprocess.run([os.path.join(self.build, rel), f"--cluster_conf={self.conf}", *args],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"{rel} {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r.stdout

    def show_logs(self):
        logs = os.path.join(self.work, "run", "logs")
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), errors="replace") as f:
                tail = f.readlines()[-15:]
            print(f"--- {name} (last lines)\n" + "".join(tail), flush=True)


def make_browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--window-size=1200,1000"):
        opts.add_argument(a)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # chromium refuses to run as root with its sandbox
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    b = webdriver.Chrome(service=Service(driver), options=opts)
    b.set_page_load_timeout(15)
    return b


class Pages:
    """What a person sees: open a page, read the cells by their ids."""

    def __init__(self, browser):
        self.b = browser

    def open(self, port, path="/"):
        self.b.get(f"http://127.0.0.1:{port}{path}")

    def field(self, port, key):
        self.open(port)
        return self.b.find_element(By.ID, f"f-{key}").text

    def cell(self, port, table, column, row=0):
        self.open(port)
        t = self.b.find_element(By.ID, f"t-{table}")
        return t.find_elements(By.CSS_SELECTOR, f"td.c-{column}")[row].text

    def text(self, port, path):
        self.open(port, path)
        return self.b.find_element(By.TAG_NAME, "body").text


def wait_until(what, fn, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # a page between reloads, a daemon restarting
            last = e
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def metric(text, series):
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
    log("ok: " + msg)


def run(cluster, pages):
    nn_http = {nid: v["http"] for nid, v in cluster.nn.items()}
    fo_http = {nid: v["fo_http"] for nid, v in cluster.nn.items()}

    # 1. One namenode active, the other standby, as their pages say.
    def roles():
        r = {nid: pages.field(p, "ha_state") for nid, p in nn_http.items()}
        return r if sorted(r.values()) == ["active", "standby"] else None
    r = wait_until("one active and one standby namenode page", roles)
    active = next(n for n, s in r.items() if s == "active")
    standby = next(n for n, s in r.items() if s == "standby")
    check(True, f"namenode pages: {active} active, {standby} standby")
    pages.open(nn_http[standby])
    check(pages.b.title == f"namenode {standby}", f"title of the standby's page: {pages.b.title!r}")
    check(pages.b.find_element(By.ID, "chart-rate").tag_name == "svg", "namenode page has its SVG chart")
    check(wait_until("active failoverd page shows the lease",
                     lambda: pages.field(fo_http[active], "lease_held") == "yes"),
          f"failoverd-{active} page: lease held")
    check(pages.field(fo_http[standby], "lease_held") == "no", f"failoverd-{standby} page: no lease")
    check(pages.field(fo_http[active], "health") == "HEALTHY", f"failoverd-{active} page: HEALTHY")
    check(pages.field(fo_http[active], "namenode_active") == "yes",
          f"failoverd-{active} page: its namenode is active")

    # 2. Journal txids move on the journalnodes' pages after qjfs writes.
    jn = cluster.jn_http
    check(pages.cell(jn[0], "journals", "journal") == "ns1", "journalnode page lists journal ns1")
    check(pages.cell(jn[0], "journals", "state") == "serving", "journal ns1 is serving")
    before_txid = int(pages.cell(jn[0], "journals", "last_written_txid"))
    before_edits = metric(pages.text(jn[0], "/metrics"),
                          'qj_journalnode_edits_written_total{journal="ns1"}')
    check(before_edits is not None, f"jn1 /metrics has qj_journalnode_edits_written_total ({before_edits})")
    for i in range(5):
        cluster.tool("namenode/qjfs", "-mkdir", "-p", f"/browser/dir{i}")
    for port in jn:
        after = wait_until(
            "journalnode page txid to move",
            lambda port=port: (lambda t: t if t >= before_txid + 5 else None)(
                int(pages.cell(port, "journals", "last_written_txid"))))
        check(after >= before_txid + 5, f"journalnode :{port} page: last written txid {before_txid} -> {after}")
    committed = wait_until("committed txid on the page", lambda: (lambda c: c if c >= before_txid + 5 else None)(
        int(pages.cell(jn[0], "journals", "committed_txid"))))
    check(committed >= before_txid + 5, f"jn1 page: committed txid {committed}")
    m = pages.text(jn[0], "/metrics")
    after_edits = metric(m, 'qj_journalnode_edits_written_total{journal="ns1"}')
    check(after_edits >= before_edits + 5, f"jn1 metric edits written {before_edits} -> {after_edits}")
    check(metric(m, 'qj_journalnode_fsync_seconds_count{journal="ns1"}') >= 5, "jn1 fsync histogram counts batches")
    nm = pages.text(nn_http[active], "/metrics")
    ok_mkdirs = metric(nm, 'qj_namenode_operations_total{op="mkdirs",result="ok"}')
    check(ok_mkdirs is not None and ok_mkdirs >= 5, f"{active} /metrics: mkdirs ok = {ok_mkdirs}")
    check(metric(nm, 'qj_namenode_ha_state{state="active"}') == 1, f"{active} /metrics: ha_state active")
    check(metric(nm, "qj_namenode_commit_wait_seconds_count") >= 5, f"{active} /metrics: commit wait histogram")
    acked = int(pages.cell(nn_http[active], "journalnodes", "acked_txid"))
    check(acked >= before_txid + 5, f"{active} page: journalnode 1 acked txid {acked}")
    inodes = int(pages.field(nn_http[active], "inodes"))
    check(inodes >= 7, f"{active} page: {inodes} inodes")

    # 3. Fail over; the pages follow.
    log(f"haadmin -failover {active} {standby}")
    cluster.tool("failover/haadmin", "-failover", active, standby)
    wait_until(f"{standby} page to say active",
               lambda: pages.field(nn_http[standby], "ha_state") == "active")
    check(True, f"{standby} page: active")
    wait_until(f"{active} page to say standby",
               lambda: pages.field(nn_http[active], "ha_state") == "standby")
    check(True, f"{active} page: standby")
    wait_until(f"failoverd-{standby} page to hold the lease",
               lambda: pages.field(fo_http[standby], "lease_held") == "yes")
    check(True, f"failoverd-{standby} page: lease held")
    check(int(pages.field(fo_http[standby], "became_active")) >= 1,
          f"failoverd-{standby} page counts the transition")
    fm = pages.text(fo_http[active], "/metrics")
    check(metric(fm, 'qj_failoverd_transitions_total{to="standby"}') >= 1,
          f"failoverd-{active} /metrics: transition to standby counted")
    # The new active writes: its page's commit figures move.
    cluster.tool("namenode/qjfs", "-mkdir", "-p", "/browser/after-failover")
    new_epoch = int(pages.field(nn_http[standby], "epoch"))
    check(new_epoch > 0, f"{standby} page: writer epoch {new_epoch}")
    txid = wait_until("new active's page to show the write",
                      lambda: (lambda t: t if t > committed else None)(
                          int(pages.field(nn_http[standby], "quorum_committed_txid"))))
    check(txid > committed, f"{standby} page: committed txid {committed} -> {txid}")
    wait_until("journalnode page to show the new writer epoch",
               lambda: int(pages.cell(jn[0], "journals", "writer_epoch")) == new_epoch)
    check(True, f"journalnode page: writer epoch {new_epoch}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    start = time.time()
    work = tempfile.mkdtemp(prefix="qj-browser-")
    cluster = Cluster(os.path.abspath(args.source), os.path.abspath(args.build), work)
    browser = None
    ok = False
    try:
        log("starting the cluster")
        cluster.start()
        browser = make_browser()
        run(cluster, Pages(browser))
        ok = True
    except Exception as e:
        log(f"FAILED: {e!r}")
        cluster.show_logs()
    finally:
        if browser is not None:
            browser.quit()
        cluster.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    log(f"{'passed' if ok else 'failed'} in {time.time() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
