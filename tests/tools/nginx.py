"""nginx as the CDN for tests and the benchmark: serves a directory on
loopback, optionally over TLS with HTTP/2, from a throw-away prefix; with
upload_root it also takes PUTs under /lfs-upload/ (the dav module), as the
storage host of uploads.  Besides access.log, conns.log has each request's
connection serial and start time."""
import os
import subprocess
import tempfile

from daemon import Daemon, free_port  # noqa: F401 (free_port: for the tests)

CONF = """
{user}
worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log {error_level};
events {{ worker_connections 1024; }}
http {{
    log_format bytes '$request_method $uri $status $body_bytes_sent "$http_range" "$http_authorization" $server_protocol';
    log_format conns '$connection $msec $request_time';
    access_log {prefix}/access.log bytes;
    access_log {prefix}/conns.log conns;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port}{listen_opts};
        server_name localhost;
        {tls}
        location / {{ {location} }}
        {upload}
    }}
}}
"""


def make_cert(dirpath):
    """A self-signed certificate for localhost and 127.0.0.1."""
    key = os.path.join(dirpath, "key.pem")
    crt = os.path.join(dirpath, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


# PUTs land in upload_root/lfs-upload/...; every answer carries an ETag (made up: S3's
# would be an MD5) because multipart clients need one per part
UPLOAD = """location /lfs-upload/ {{
            root {upload_root};
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
            client_max_body_size 0;
            client_body_buffer_size 1m;
            add_header ETag "\\"$request_id\\"" always;
        }}"""


# in front of another server (the hub emulator over TLS): every request passed on as it
# came, the answers not held back
PROXY = ("proxy_pass {to}; proxy_set_header Host $http_host; proxy_http_version 1.1; "
         "proxy_buffering off; proxy_request_buffering off; client_max_body_size 0;")


class Nginx(Daemon):
    """cert: (certificate, key) to serve, e.g. from certs.CA.issue(); the default over
    TLS is a self-signed certificate for localhost (self.cert).  proxy_to: a URL that
    every request is passed on to, instead of serving root."""

    paths = ("nginx", "/usr/sbin/nginx")
    package = "nginx"

    def __init__(self, root, tls=False, http2=False, upload_root=None, cert=None,
                 error_level="warn", proxy_to=None):
        self.prefix = tempfile.mkdtemp(prefix="mscli-nginx-")
        os.makedirs(os.path.join(self.prefix, "tmp"))
        self.port = free_port()
        self.cert = None
        tls_conf, opts = "", ""
        if tls or cert:
            tls = True
            self.cert, key = cert or make_cert(self.prefix)
            # TLS 1.3 as CDNs speak it (nginx 1.22 offers only up to 1.2 by default)
            tls_conf = ("ssl_certificate %s; ssl_certificate_key %s; "
                        "ssl_protocols TLSv1.2 TLSv1.3;" % (self.cert, key))
            opts = " ssl" + (" http2" if http2 else "")
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            # workers run as the caller: a root master would drop them to nobody,
            # who cannot read a test's private temporary directory
            user = "user root;" if os.geteuid() == 0 else ""
            upload = UPLOAD.format(upload_root=os.path.abspath(upload_root)) \
                if upload_root else ""
            location = (PROXY.format(to=proxy_to) if proxy_to else
                        "root %s;" % os.path.abspath(root))
            f.write(CONF.format(prefix=self.prefix, port=self.port, location=location,
                                tls=tls_conf, listen_opts=opts, user=user, upload=upload,
                                error_level=error_level))
        self.scheme = "https" if tls else "http"
        self.url = "%s://localhost:%d" % (self.scheme, self.port)
        self.start(["-p", self.prefix, "-c", os.path.join(self.prefix, "nginx.conf")])

    def handshake_failures(self):
        """TLS handshakes a client broke off (nginx logs them at error_level "info")."""
        path = os.path.join(self.prefix, "error.log")
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return sum("SSL_do_handshake() failed" in line for line in f)

    def access_log(self):
        """[(method, uri, status, bytes, range, authorization, protocol)] so far."""
        out = []
        path = os.path.join(self.prefix, "access.log")
        if not os.path.exists(path):
            return out
        with open(path) as f:
            for line in f:
                parts = line.split('"')
                head = parts[0].split()
                if len(head) < 4:
                    continue
                out.append((head[0], head[1], int(head[2]), int(head[3]),
                            parts[1] if len(parts) > 1 else "-",
                            parts[3] if len(parts) > 3 else "-",
                            parts[4].strip() if len(parts) > 4 else "-"))
        return out

    def conn_log(self, offset=0):
        """(new offset, [(connection serial, when the request started, epoch s)]) of the
        requests logged past offset (bench.py counts connections and the first request)."""
        path = os.path.join(self.prefix, "conns.log")
        if not os.path.exists(path):
            return offset, []
        out = []
        with open(path) as f:
            f.seek(offset)
            for line in f:
                c, msec, took = line.split()
                out.append((int(c), float(msec) - float(took)))
            return f.tell(), out

    def bytes_sent(self):
        return sum(r[3] for r in self.access_log())
