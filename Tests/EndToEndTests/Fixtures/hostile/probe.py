"""A hostile training script: tries what a stranger's job could do to a volunteer's machine.

Every attempt is reported as a metric, 1 when it worked and 0 when it was blocked, so that the
run's own record says what the job could reach. `targets.json` beside this script names what to
aim at (the test or `repro-worker --check-isolation` writes it); the worker's process is also
looked for in /proc, as a real attacker would.
"""
import json
import os
import socket
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
targets = json.load(open(os.path.join(here, "targets.json")))
output = os.environ.get("REPRO_OUTPUT_DIR", ".")
results = {}


def attempt(name, action):
    try:
        results[name] = 1 if action() else 0
    except Exception:
        results[name] = 0


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


# Our own result, which a neighbour will try to forge.
with open(os.path.join(output, "metrics.json"), "w") as handle:
    json.dump({"own_value": 1.0}, handle)


def worker_processes():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                argv = read(f"/proc/{entry}/cmdline").split(b"\0")
            except OSError:
                continue
            if any(b"repro-worker" in part for part in argv[:1]):
                found.append((int(entry), argv))
    return found


workers = worker_processes()
attempt("attack_token_file", lambda: b"token" in read(targets["token_file"]))


def key_from_cmdline():
    for _, argv in workers:
        if b"--token" in argv:
            index = argv.index(b"--token")
            if index + 1 < len(argv) and argv[index + 1]:
                return True
    return False


attempt("attack_cmdline_key", key_from_cmdline)
attempt("attack_worker_environ", lambda: any(len(read(f"/proc/{pid}/environ")) > 0 for pid, _ in workers))
attempt("attack_signal_worker", lambda: any(os.kill(pid, 0) is None for pid, _ in workers))
attempt("attack_key_file", lambda: len(read(targets["key_file"])) > 0)
attempt("attack_shadow", lambda: len(read("/etc/shadow")) > 0)
attempt("attack_root_uid", lambda: os.getuid() == 0 or os.geteuid() == 0)
attempt("attack_home_visible", lambda: len(os.listdir("/root")) > 0 or len(os.listdir("/home")) > 0)


def forge_neighbours():
    """Waits a little for another running job, then overwrites its metrics."""
    own = os.path.realpath(os.path.join(output, ".."))
    deadline = time.time() + targets.get("neighbour_wait_seconds", 4)
    forged = False
    while time.time() < deadline and not forged:
        try:
            names = os.listdir(targets["jobs_dir"])
        except OSError:
            return False
        for name in names:
            folder = os.path.join(targets["jobs_dir"], name)
            if os.path.realpath(folder) == own:
                continue
            victim = os.path.join(folder, "output", "metrics.json")
            try:
                with open(victim, "w") as handle:
                    json.dump({"own_value": 666.0}, handle)
                forged = True
            except OSError:
                pass
        time.sleep(0.2)
    return forged


attempt("attack_other_job", forge_neighbours)


def write_into_venv():
    import site
    for directory in site.getsitepackages():
        if directory.startswith(sys.prefix):
            with open(os.path.join(directory, "zz_repro_probe.pth"), "w") as handle:
                handle.write("import os\n")
            return True
    return False


attempt("attack_venv_write", write_into_venv)


def write_outside():
    """Drops a marker into each of the worker's folders. Only the host can tell whether one landed:
    inside a sandbox these paths may exist in the job's private /tmp, which the host never sees."""
    marker = "repro-probe-" + targets["nonce"]
    for directory in ["/tmp", targets["work_dir"], targets["cache_dir"], targets["spool_dir"], targets["jobs_dir"]]:
        try:
            with open(os.path.join(directory, marker), "w") as handle:
                handle.write("x")
        except OSError:
            pass


write_outside()


def connect_tcp(host, port):
    with socket.create_connection((host, port), timeout=2):
        return True


def connect_unix(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(2)
        client.connect(path)
        return True


attempt("attack_coordinator", lambda: connect_tcp(targets["coordinator_host"], targets["coordinator_port"]))
attempt(
    "attack_database",
    lambda: (targets.get("database_port") and connect_tcp("127.0.0.1", targets["database_port"]))
    or (targets.get("database_socket") and connect_unix(targets["database_socket"])),
)

# A process that leaves the job's process group and session, to outlive the job.
subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(600)", "repro-probe-" + targets["nonce"]],
    start_new_session=True,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
results["attack_leftover_started"] = 1

# Let the neighbour run its own attempts before this job (and its metrics) ends.
time.sleep(targets.get("linger_seconds", 1))
for name, value in sorted(results.items()):
    print(f"REPRO_METRIC {name}={value}")
