"""A private JACK server (dummy backend), jalv in it, and our player/recorder.

Every JACK client here gets JACK_NO_START_SERVER=1 and the unique server name,
so a test never talks to, or starts, any other server.
"""
import os
import re
import subprocess
import threading
import time

from hostlib import TestFailure, build_dir, log, lv2_path


def jack_env(server):
    return dict(os.environ, JACK_DEFAULT_SERVER=server, JACK_NO_START_SERVER="1",
                JACK_NO_AUDIO_RESERVATION="1", LV2_PATH=lv2_path())


def start_jackd(procs, rate, period):
    """Starts `jackd -d dummy` under a name no other run uses; returns the name."""
    server = "stride%d_%d" % (os.getpid(), int(time.time() * 1000) % 100000)
    env = jack_env(server)
    logf = open(os.path.join(procs.tmp, "jackd_%d.log" % rate), "w")
    # Realtime scheduling (jackd's default) where allowed: on a loaded machine it keeps
    # xruns rare (jackd carries on without it where it is not allowed).
    # -t: a generous client timeout, so a loaded CI machine does not zombify clients.
    p = procs.start(["jackd", "-n", server, "-t", "5000", "-d", "dummy", "-r", str(rate),
                     "-p", str(period)], env=env, stdout=logf, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if p.poll() is not None:
            break
        r = subprocess.run(["jack_lsp"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=10)
        if r.returncode == 0 and "system:" in r.stdout:
            log("jackd %s running: dummy backend, %d Hz, %d frames" % (server, rate, period))
            return server
        time.sleep(0.2)
    logf.flush()
    with open(logf.name) as f:
        text = f.read()
    raise TestFailure("jackd (dummy backend) did not start within 15 s:\n" + text[-2000:])


def jack_ports(server):
    r = subprocess.run(["jack_lsp"], env=jack_env(server), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=10)
    return r.stdout.split("\n") if r.returncode == 0 else []


VALUE = re.compile(r"^(?:> )*(\w+)\s*=\s*([-+0-9.eE]+|-?nan|-?inf)\s*$")


class Jalv:
    """jalv (the console frontend) running one plugin as a JACK client.

    jalv 1.6.6's `-p` prints nothing for control outputs without a UI, so the
    outputs are read the way a user at its prompt would: the `monitors`
    command, sent every `poll` seconds; each reply line is time-stamped on
    arrival. Commands go to its stdin; closing stdin makes it exit."""

    def __init__(self, procs, server, uri, client, controls=(), outputs=(), poll=0.05):
        self.procs = procs
        self.server = server
        self.client = client
        self.outputs = set(outputs)
        self.lines = []
        self.values = []  # (monotonic time, symbol, value) for output symbols
        self.lock = threading.Lock()
        self.poll = poll
        self.polling = False
        argv = ["stdbuf", "-oL", "jalv", "-p", "-n", client, "-x"]
        for sym, val in controls:
            argv += ["-c", "%s=%s" % (sym, val)]
        argv.append(uri)
        self.argv = argv
        self.p = procs.start(argv, env=jack_env(server), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            t = time.monotonic()
            line = line.rstrip("\n")
            with self.lock:
                self.lines.append((t, line))
                m = VALUE.match(line)
                if m and m.group(1) in self.outputs:
                    self.values.append((t, m.group(1), float(m.group(2))))

    def output_text(self):
        with self.lock:
            return "\n".join(l for _, l in self.lines)

    def wait_ports(self, ports, timeout=20.0):
        """Waits until JACK lists every one of `ports` (symbols of this client)."""
        want = ["%s:%s" % (self.client, s) for s in ports]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise TestFailure("jalv exited (%d) before its ports appeared: %s\n%s"
                                  % (self.p.returncode, " ".join(self.argv),
                                     self.output_text()[-3000:]))
            have = set(jack_ports(self.server))
            if all(w in have for w in want):
                return
            time.sleep(0.2)
        raise TestFailure("jalv's JACK ports %s did not appear within %.0f s; jalv said:\n%s"
                          % (want, timeout, self.output_text()[-3000:]))

    def send(self, command):
        if self.p.poll() is not None:
            raise TestFailure("jalv exited (%d) unexpectedly:\n%s"
                              % (self.p.returncode, self.output_text()[-3000:]))
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()

    def start_polling(self):
        self.polling = True
        self.poller = threading.Thread(target=self._poll, daemon=True)
        self.poller.start()

    def _poll(self):
        while self.polling and self.p.poll() is None:
            try:
                self.send("monitors")
            except (TestFailure, BrokenPipeError, ValueError):
                return
            time.sleep(self.poll)

    def stop_polling(self):
        self.polling = False
        self.poller.join(timeout=5)

    def latest(self, symbol):
        with self.lock:
            for t, s, v in reversed(self.values):
                if s == symbol:
                    return v
        return None

    def series(self, symbol, t0, t1):
        with self.lock:
            return [v for t, s, v in self.values if s == symbol and t0 <= t <= t1]

    def quit(self):
        """Closes stdin (jalv exits at end of input), then makes sure it is gone."""
        try:
            self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.procs.stop(self.p)
        self.reader.join(timeout=5)


def play(procs, server, name, wav, targets, record=(), out_wav=None, tail=0.5, timeout=120):
    """Plays `wav` into `targets` with our JACK client while recording `record` into
    `out_wav`; returns (the CLOCK_MONOTONIC time of the file's first frame, the
    number of xruns JACK reported meanwhile)."""
    exe = os.path.join(build_dir(), "tests", "hosts", "jack_play")
    if not os.access(exe, os.X_OK):
        raise TestFailure("%s is not built (it needs libjack-jackd2-dev at configure time)" % exe)
    argv = [exe, "-n", name, "-t", str(tail), "-T", str(timeout)]
    for t in targets:
        argv += ["-p", t]
    for r in record:
        argv += ["-r", r]
    if record:
        argv += ["-o", out_wav]
    argv.append(wav)
    p = procs.start(argv, env=jack_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
    start, xruns = None, None
    for line in p.stdout:
        if line.startswith("start "):
            start = float(line.split()[1])
        elif line.startswith("xruns "):
            xruns = int(line.split()[1])
    p.wait(timeout=timeout + 10)
    err = p.stderr.read()
    if p.returncode != 0 or start is None or xruns is None:
        raise TestFailure("jack_play failed (exit %s): %s" % (p.returncode, err.strip()))
    if xruns:
        log("note: JACK reported %d xrun(s) while playing %s" % (xruns, os.path.basename(wav)))
    return start, xruns
