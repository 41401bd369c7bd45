"""tinyproxy as the forward proxy of the proxy tests: on loopback, from a throw-away
prefix, optionally with Basic credentials (BasicAuth), only some CONNECT ports
(ConnectPort, as a corporate proxy allows 443 only), or refusing every client (Allow
for another address).  Its log says what it was asked: requests()."""
import os
import re
import tempfile

from daemon import Daemon, free_port


class Tinyproxy(Daemon):
    paths = ("tinyproxy", "/usr/bin/tinyproxy", "/usr/sbin/tinyproxy")
    package = "tinyproxy"

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
        self.start(["-d", "-c", conf])

    def with_credentials(self, user, password):
        return "http://%s:%s@127.0.0.1:%d" % (user, password, self.port)

    def requests(self):
        """[(method, target)] of every request it read, in order."""
        if not os.path.exists(self.log):
            return []
        with open(self.log, errors="replace") as f:
            return re.findall(r"Request \(file descriptor \d+\): (\S+) (\S+) HTTP/", f.read())
