"""tinyproxy as the forward proxy of the proxy tests: on loopback, from a throw-away
prefix, optionally with Basic credentials (BasicAuth), only some CONNECT ports
(ConnectPort, as a corporate proxy allows 443 only), or refusing every client (Allow
for another address).  Its log says what it was asked: requests()."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from nginx import free_port


class Tinyproxy:
    def __init__(self, user=None, password=None, connect_ports=None, refuse_all=False):
        self.prefix = tempfile.mkdtemp(prefix="mscli-tinyproxy-")
        self.port = free_port()
        self.log = os.path.join(self.prefix, "tinyproxy.log")
        lines = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 60",
                 'LogFile "%s"' % self.log, "LogLevel Info",
                 'PidFile "%s"' % os.path.join(self.prefix, "tinyproxy.pid"),
                 "MaxClients 100",
                 # a client it does not know is answered 403 before its request is read
                 "Allow %s" % ("192.0.2.1" if refuse_all else "127.0.0.1"),
                 "DisableViaHeader Yes"]
        if user:
            lines.append("BasicAuth %s %s" % (user, password))
        for p in connect_ports or ():
            lines.append("ConnectPort %d" % p)
        conf = os.path.join(self.prefix, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen([self.binary(), "-d", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("tinyproxy did not start: " +
                                       self.proc.stderr.read().decode())
                time.sleep(0.02)
        raise RuntimeError("tinyproxy did not start listening")

    @staticmethod
    def binary():
        for p in (shutil.which("tinyproxy"), "/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"):
            if p and os.path.exists(p):
                return p
        raise FileNotFoundError("tinyproxy is not installed (apt-get install tinyproxy)")

    @staticmethod
    def available():
        try:
            Tinyproxy.binary()
            return True
        except FileNotFoundError:
            return False

    def with_credentials(self, user, password):
        return "http://%s:%s@127.0.0.1:%d" % (user, password, self.port)

    def requests(self):
        """[(method, target)] of every request it read, in order."""
        if not os.path.exists(self.log):
            return []
        with open(self.log, errors="replace") as f:
            return re.findall(r"Request \(file descriptor \d+\): (\S+) (\S+) HTTP/", f.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        shutil.rmtree(self.prefix, ignore_errors=True)
