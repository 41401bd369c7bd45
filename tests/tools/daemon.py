"""What the servers the tests start share (nginx, tinyproxy): a free port on loopback,
finding the binary, starting it in the foreground and waiting until it listens,
stopping it and removing its throw-away prefix."""
import os
import shutil
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """A subclass names its binary (paths, the first that exists) and its package."""

    paths = ()
    package = None

    @classmethod
    def binary(cls):
        for p in cls.paths:
            p = shutil.which(p) if "/" not in p else p
            if p and os.path.exists(p):
                return p
        raise FileNotFoundError("%s is not installed (apt-get install %s)" %
                                (cls.package, cls.package))

    @classmethod
    def available(cls):
        try:
            cls.binary()
            return True
        except FileNotFoundError:
            return False

    def start(self, args):
        """Run binary + args from self.prefix until self.port takes connections."""
        self.proc = subprocess.Popen([self.binary()] + list(args), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("%s did not start: %s" %
                                       (self.package, self.proc.stderr.read().decode()))
                time.sleep(0.02)
        raise RuntimeError("%s did not start listening" % self.package)

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
