#!/usr/bin/env python3
"""Browser check of the dashboard (scripts/steps/20-browser.sh).

Puts a real completed study on the coordinator through its API (accounts, bundle, spec, a registered
worker that leases every task and reports results through the worker API: every dot is an accepted
run), signs in through the sign-in form, and then has headless Chromium render the pages:

* the study page: one dot per accepted run in every strip plot;
* the preprint page: one row per claim in the claim plot;
* the preprints table: the CSV link downloads exactly the rows shown;
* a screenshot of the study page.

Chromium has no way to take a cookie on its command line, so it talks to a small reverse proxy on
loopback that adds the session cookie (obtained by the real sign-in form) to every request and
forwards it unchanged otherwise. Usage: dashboard_browser.py CHROMIUM OUTPUT_DIR (reads
REPRO_COORDINATOR and REPRO_ADMIN_KEY_FILE).
"""
import gzip
import html.parser
import http.cookiejar
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ["REPRO_COORDINATOR"]
ADMIN = open(os.environ["REPRO_ADMIN_KEY_FILE"]).read().strip()
CHROMIUM, OUT = sys.argv[1], sys.argv[2]
SEEDS, DATASETS = 6, ["digits", "wine"]


def fail(message):
    print(f"browser check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def api(method, path, key, body=None, content_type="application/json"):
    data = None
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        fail(f"{method} {path} answered {error.code}: {error.read()[:500]!r}")
    return json.loads(text) if text else None


def account(name, role):
    return api("POST", "/v1/accounts", ADMIN, {"name": name, "roles": [role]})


def seed_study():
    researcher = account("browser-researcher", "researcher")
    api("POST", f"/v1/accounts/{researcher['account_id']}/trust", ADMIN, {"trusted": True, "reason": "browser test"})
    key = researcher["key"]
    # A bundle the coordinator stores by content; the worker API never runs it here.
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("train.py")
        payload = b"print('{}')\n"
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    bundle = api("POST", "/v1/bundles", key, gzip.compress(archive.getvalue(), mtime=0), "application/gzip")
    spec = f"""
preprint:
  id: "arXiv:2401.04242"
  title: "Small MLPs are enough <b>(browser test)</b>"
  authors: ["A. Author"]
  institutions: ["Example University"]
  field: "cs.LG"
  funding: [{{funder: "Example Foundation", grant: "EF-1"}}]
code:
  bundle: "sha256:{bundle['sha256']}"
environment:
  python:
    requirements: requirements.txt
run:
  command: ["python3", "train.py", "--seed", "{{seed}}", "--dataset", "{{dataset}}"]
  timeout: 5m
  resources: {{cpus: 1, memory: 1GiB, gpus: 0}}
matrix:
  seeds: {{from: 0, count: {SEEDS}}}
  datasets: [{", ".join(DATASETS)}]
  replicas: 2
claims:
  - {{metric: accuracy, dataset: digits, value: 0.95, direction: higher, tolerance: 0.01}}
  - {{metric: accuracy, dataset: wine, value: 0.99, direction: higher, tolerance: 0.005}}
  - {{metric: f1, dataset: digits, value: 0.9, direction: equal, tolerance: 0.05}}
"""
    study = api("POST", "/v1/studies", key, spec.encode(), "application/yaml")
    tokens = []
    # Two volunteers: replicas of a seed may have to run under different accounts.
    for name, hardware in [("browser-worker-a", "cpu-a"), ("browser-worker-b", "cpu-b")]:
        volunteer = account(f"volunteer-{name}", "volunteer")
        worker = api("POST", "/v1/workers", volunteer["key"],
                     {"name": name, "slots": 8, "cpus": 4, "memory_bytes": 8 << 30, "gpus": 0, "hardware_class": hardware})
        tokens.append((worker["token"], hardware))
    # Each worker leases and reports until the study is done; replicas go to different workers.
    for _ in range(40):
        status = api("GET", f"/v1/studies/{study['id']}", key)
        if status["state"] == "completed":
            break
        for token, hardware in tokens:
            leased = api("POST", "/v1/leases", token, {"max": 8, "wait": 0})
            results = []
            for lease in leased["leases"]:
                base = 0.955 if lease["dataset"] == "digits" else 0.97
                accuracy = base + 0.004 * ((lease["seed"] * 7 + lease["replica"] * 3) % 5) / 4
                results.append({"task_id": lease["task_id"], "lease_id": lease["lease_id"], "outcome": "succeeded",
                                "exit_code": 0, "duration_seconds": 2.5 + lease["seed"] * 0.1,
                                "metrics": {"accuracy": accuracy, "f1": accuracy - 0.03}, "log_tail": "ok",
                                "hardware_class": hardware})
            if results:
                api("POST", "/v1/results", token, {"results": results})
    status = api("GET", f"/v1/studies/{study['id']}", key)
    if status["state"] != "completed":
        fail(f"the study did not complete: {status}")
    runs = [run for run in api("GET", f"/v1/studies/{study['id']}/runs", key)["runs"] if run["accepted"]]
    community = account("browser-reader", "community")
    api("POST", "/v1/preprints/arXiv:2401.04242/feedback", community["key"],
        {"verdict": "partially", "rating": 4, "tags": ["seed-sensitive"],
         "text": "Digits holds; wine is <script>alert('x')</script> below the claim."})
    return key, study["id"], runs


def sign_in(key):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(BASE + "/sign-in", timeout=30).read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf": token, "key": key, "next": "/"}).encode()
    opener.open(urllib.request.Request(BASE + "/sign-in", data=form, method="POST"), timeout=30).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "rg_session" not in cookies:
        fail("signing in through the form gave no session cookie")
    return cookies["rg_session"]


class CookieProxy(http.server.BaseHTTPRequestHandler):
    """Forwards GETs to the coordinator with the session cookie added."""

    cookie = ""

    def do_GET(self):
        request = urllib.request.Request(BASE + self.path, headers={"Cookie": f"rg_session={self.cookie}"})
        try:
            response = urllib.request.urlopen(request, timeout=60)
            status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        self.send_response(status)
        for name in ("Content-Type", "Content-Security-Policy", "Content-Disposition", "ETag"):
            if headers.get(name):
                self.send_header(name, headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def chromium(*arguments):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               "--disable-dev-shm-usage", f"--user-data-dir={OUT}/profile", "--virtual-time-budget=3000", *arguments]
    done = subprocess.run(command, capture_output=True, timeout=120, text=True)
    if done.returncode != 0:
        fail(f"chromium {' '.join(arguments)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


class Collector(html.parser.HTMLParser):
    """Counts plot marks per SVG plot, rows of the scores table, and finds the CSV link."""

    def __init__(self):
        super().__init__()
        self.svgs = []  # (class, {mark class: count}, attributes of the runs group)
        self.rows = 0
        self.csv = None
        self.in_scores = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "svg" and "plot" in classes:
            self.svgs.append((classes, {}, {}))
        elif self.svgs and tag in ("circle", "rect", "g"):
            for name in classes:
                self.svgs[-1][1][name] = self.svgs[-1][1].get(name, 0) + 1
            if tag == "g" and "runs" in classes:
                self.svgs[-1][2].update(attributes)
        if tag == "table" and attributes.get("id") == "scores":
            self.in_scores = True
        if tag == "tr" and self.in_scores:
            self.rows += 1
        if tag == "a" and attributes.get("id") == "csv-link":
            self.csv = attributes.get("href")

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_scores = False


def main():
    os.makedirs(OUT, exist_ok=True)
    key, study_id, runs = seed_study()
    cookie = sign_in(key)
    CookieProxy.cookie = cookie
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CookieProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}"

    # The study page: one dot per accepted run in each (dataset, metric) strip plot.
    study_dom = chromium("--dump-dom", f"{proxy}/studies/{study_id}")
    open(f"{OUT}/study.html", "w").write(study_dom)
    page = Collector()
    page.feed(study_dom)
    strips = [svg for svg in page.svgs if "strip" in svg[0]]
    expected_cells = len(DATASETS) * 2  # accuracy and f1 on each dataset
    if len(strips) != expected_cells:
        fail(f"{len(strips)} strip plots on the study page, expected {expected_cells}")
    per_dataset = {dataset: sum(1 for run in runs if run["dataset"] == dataset) for dataset in DATASETS}
    dots = sorted(svg[1].get("run", 0) for svg in strips)
    wanted = sorted(count for count in per_dataset.values() for _ in range(2))
    if dots != wanted or sum(per_dataset.values()) != len(runs) or len(runs) != SEEDS * len(DATASETS) * 2:
        fail(f"strip plot dots {dots}, accepted runs per dataset and metric {wanted} ({len(runs)} accepted runs)")
    print(f"study page: {len(strips)} strip plots, dots {dots} = accepted runs per cell")

    # The preprint page: every claim in the claim plot.
    preprint_dom = chromium("--dump-dom", f"{proxy}/preprints/arXiv:2401.04242")
    open(f"{OUT}/preprint.html", "w").write(preprint_dom)
    page = Collector()
    page.feed(preprint_dom)
    claims = [svg for svg in page.svgs if "claims" in svg[0]]
    rows = claims[0][1].get("claim-row", 0) if claims else 0
    if rows != 3:
        fail(f"the claim plot has {rows} claims, expected 3")
    if "<script>alert" in preprint_dom:
        fail("hostile feedback text came out as markup")
    print(f"preprint page: claim plot with {rows} claims; hostile feedback inert")

    # The preprints table: the CSV link gives exactly the rows shown.
    list_dom = chromium("--dump-dom", f"{proxy}/preprints?limit=1&sort=score&order=desc")
    page = Collector()
    page.feed(list_dom)
    shown = page.rows - 1  # minus the header row
    if not page.csv:
        fail("no CSV link on /preprints")
    csv_text = urllib.request.urlopen(proxy + page.csv.replace("&amp;", "&"), timeout=30).read().decode()
    csv_rows = len([line for line in csv_text.splitlines() if line.strip()]) - 1
    if shown != csv_rows or shown != 1:
        fail(f"/preprints shows {shown} rows, its CSV link downloads {csv_rows}")
    if "arXiv:2401.04242" not in csv_text:
        fail("the CSV does not hold the preprint shown")
    print(f"preprints table: {shown} row shown, CSV link downloads {csv_rows}")

    # A screenshot for people to look at (not compared pixel by pixel).
    chromium("--hide-scrollbars", "--window-size=1100,1500", f"--screenshot={OUT}/study.png", f"{proxy}/studies/{study_id}")
    if not os.path.exists(f"{OUT}/study.png"):
        fail("chromium wrote no screenshot")
    print(f"screenshot: {OUT}/study.png ({os.path.getsize(f'{OUT}/study.png')} bytes)")
    server.shutdown()


if __name__ == "__main__":
    main()
