"""Certificates for the TLS tests, made with the openssl command: a private CA, and
server certificates it signs -- for loopback, for another host name, or expired."""
import os
import shutil
import subprocess
import tempfile

CA_CONF = """[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
policy = any_name
copy_extensions = copy
unique_subject = no
[ any_name ]
commonName = supplied
"""


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


class CA:
    """A certificate authority of the test's own, in directory d."""

    def __init__(self, d, name="mscli test CA"):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.cert = os.path.join(d, "ca.pem")
        self.key = os.path.join(d, "ca.key")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj",
                 "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-keyout", self.key, "-out", self.cert)
        with open(os.path.join(d, "index.txt"), "w"):
            pass
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        self.conf = os.path.join(d, "ca.conf")
        with open(self.conf, "w") as f:
            f.write(CA_CONF.format(d=d))
        self.n = 0

    def issue(self, names=("localhost", "127.0.0.1"), expired=False):
        """A server certificate and its key, signed by this CA: (cert, key)."""
        self.n += 1
        base = os.path.join(self.dir, "server%d" % self.n)
        san = ",".join(("IP:" if n[0].isdigit() else "DNS:") + n for n in names)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + names[0],
                 "-addext", "subjectAltName=" + san, "-keyout", base + ".key",
                 "-out", base + ".csr")
        # `openssl ca` takes explicit dates: a certificate that ended in 2020
        dates = (["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] if expired
                 else ["-days", "2"])
        _openssl("ca", "-batch", "-config", self.conf, "-cert", self.cert, "-keyfile",
                 self.key, "-in", base + ".csr", "-out", base + ".pem", "-notext", *dates)
        return base + ".pem", base + ".key"

    def hashed_dir(self, d):
        """d holding the CA certificate under its hash name, as SSL_CERT_DIR wants it."""
        os.makedirs(d, exist_ok=True)
        h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", self.cert],
                           check=True, capture_output=True, text=True).stdout.strip()
        with open(self.cert, "rb") as src, open(os.path.join(d, h + ".0"), "wb") as dst:
            dst.write(src.read())
        return d


class WithCA:
    """A test class's own CA (cls.ca, in the directory cls.pki), made once for the class:
    list it before the TestCase class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = tempfile.mkdtemp(prefix="mscli-pki-")
        cls.ca = CA(os.path.join(cls.pki, "ca"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)
        super().tearDownClass()
