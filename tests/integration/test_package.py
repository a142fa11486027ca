# The Debian package (scripts/package.sh, packaging/debian/, docs/packaging.md)
# and basalt-server's --config file (tools/config_file.h).
#
# The package is built from the binaries this test run already has (the
# directory of $BASALT_SERVER, normally the Debug build), uncompressed, so no
# second build is paid for. It is checked with dpkg-deb (files, control
# fields, conffiles, maintainer scripts), extracted with dpkg -x, and the
# extracted programs are run: --version, and the server with --config files
# (including the packaged /etc/basalt/basalt.conf). The unit is checked with
# systemd-analyze verify where that exists (skipped otherwise). Nothing is
# installed on this machine.

import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import LISTEN_RE, REPO, START_TIMEOUT_S, STOP_TIMEOUT_S, make_client, server_binary

PACKAGE_TIMEOUT_S = 600

EXPECTED_FILES = {
    "usr/bin/basalt-server": "-rwxr-xr-x",
    "usr/bin/basalt-admin": "-rwxr-xr-x",
    "usr/bin/basalt-stream-tail": "-rwxr-xr-x",
    "usr/bin/basalt-lambda-host": "-rwxr-xr-x",
    "usr/share/doc/basalt/examples/stream_handler.py": "-rw-r--r--",
    "lib/systemd/system/basalt.service": "-rw-r--r--",
    "etc/basalt/basalt.conf": "-rw-r--r--",
    "usr/share/doc/basalt/copyright": "-rw-r--r--",
    "usr/share/doc/basalt/README.Debian": "-rw-r--r--",
}


def run(args, timeout=120, **kwargs):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


class Package:
    def __init__(self, deb, root, work):
        self.deb = deb
        self.root = root
        self.work = work

    def path(self, rel):
        return os.path.join(self.root, rel)

    def field(self, name):
        r = run(["dpkg-deb", "-f", self.deb, name])
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()


@pytest.fixture(scope="module")
def package():
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (not a Debian system)")
    build_dir = os.path.dirname(os.path.abspath(server_binary()))
    for name in ("basalt-server", "basalt-admin"):
        if not os.access(os.path.join(build_dir, name), os.X_OK):
            pytest.fail("%s not built in %s" % (name, build_dir), pytrace=False)
    work = tempfile.mkdtemp(prefix="basalt-package-")
    try:
        out = os.path.join(work, "out")
        r = run(["bash", str(REPO / "scripts" / "package.sh"), "--build-dir", build_dir,
                 "--out", out, "--compression", "none"], timeout=PACKAGE_TIMEOUT_S)
        assert r.returncode == 0, "package.sh failed:\n%s\n%s" % (r.stdout, r.stderr)
        debs = sorted(Path(out).glob("basalt_*.deb"))
        assert len(debs) == 1, debs
        root = os.path.join(work, "root")
        r = run(["dpkg", "-x", str(debs[0]), root])
        assert r.returncode == 0, r.stderr
        yield Package(str(debs[0]), root, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_file_list(package):
    r = run(["dpkg-deb", "-c", package.deb])
    assert r.returncode == 0, r.stderr
    files = {}
    for line in r.stdout.splitlines():
        # drwxr-xr-x root/root 0 2024-01-01 00:00 ./usr/bin/
        mode, owner, _size, _date, _time, name = line.split(None, 5)
        assert owner == "root/root", line
        name = name[2:] if name.startswith("./") else name
        if not mode.startswith("d"):
            files[name] = mode
    assert files == EXPECTED_FILES
    # The package name and version are in the file name.
    version = package.field("Version")
    arch = package.field("Architecture")
    assert os.path.basename(package.deb) == "basalt_%s_%s.deb" % (version, arch)


def test_control_fields(package):
    assert package.field("Package") == "basalt"
    r = run(["dpkg", "--print-architecture"])
    assert package.field("Architecture") == r.stdout.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", package.field("Version"))
    assert package.field("Maintainer")
    assert package.field("Description").startswith("DynamoDB-compatible database server")
    assert int(package.field("Installed-Size")) > 0
    depends = {d.split()[0] for d in package.field("Depends").split(", ")}
    # The maintainer scripts and basalt-stream-tail need these.
    assert {"adduser", "python3", "python3-boto3", "libc6", "libstdc++6"} <= depends
    # Every shared library the server loads comes from a package it depends on.
    r = run(["ldd", package.path("usr/bin/basalt-server")])
    assert r.returncode == 0, r.stderr
    libs = re.findall(r"=> (/\S+)", r.stdout) + re.findall(r"^\s*(/\S+)", r.stdout, re.M)
    assert libs
    for lib in libs:
        owner = None
        # usrmerge: ldd says /lib/..., dpkg may know /usr/lib/... (or the symlink target).
        alt = lib[4:] if lib.startswith("/usr/") else "/usr" + lib
        for candidate in (lib, alt, os.path.realpath(lib)):
            q = run(["dpkg", "-S", candidate])
            if q.returncode == 0:
                owner = q.stdout.split(":")[0].strip()
                break
        assert owner is not None, "no package owns %s" % lib
        assert owner in depends, "%s (%s) is not in Depends: %s" % (lib, owner, sorted(depends))


def test_conffiles_and_maintainer_scripts(package):
    control = os.path.join(package.work, "control")
    r = run(["dpkg-deb", "-e", package.deb, control])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(control, "conffiles")) as f:
        assert f.read().split() == ["/etc/basalt/basalt.conf"]
    for script in ("postinst", "prerm", "postrm"):
        path = os.path.join(control, script)
        assert os.access(path, os.X_OK), script
        r = run(["sh", "-n", path])
        assert r.returncode == 0, "%s: %s" % (script, r.stderr)
    with open(os.path.join(control, "postinst")) as f:
        postinst = f.read()
    assert "adduser --system --group" in postinst
    # Nothing is enabled or started on install.
    assert "deb-systemd-helper enable basalt.service" in postinst
    assert " start " not in postinst
    # md5sums covers every file.
    with open(os.path.join(control, "md5sums")) as f:
        listed = {line.split(None, 1)[1].strip() for line in f}
    assert listed == set(EXPECTED_FILES)


def test_versions(package):
    version = package.field("Version")
    r = run([package.path("usr/bin/basalt-server"), "--version"])
    assert (r.returncode, r.stdout) == (0, "basalt-server %s\n" % version), r.stderr
    r = run([package.path("usr/bin/basalt-admin"), "--version"])
    assert (r.returncode, r.stdout) == (0, "basalt-admin %s\n" % version), r.stderr
    r = run([package.path("usr/bin/basalt-stream-tail"), "--help"])  # its #!/usr/bin/python3
    assert r.returncode == 0 and "--endpoint" in r.stdout, r.stderr
    r = run([package.path("usr/bin/basalt-lambda-host"), "--help"])
    assert r.returncode == 0 and "FILE.py" in r.stdout + r.stderr, r.stderr


def test_systemd_unit(package):
    unit = package.path("lib/systemd/system/basalt.service")
    with open(unit) as f:
        text = f.read()
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            settings.setdefault(k, v)
    assert settings["ExecStart"] == "/usr/bin/basalt-server --config /etc/basalt/basalt.conf"
    assert settings["User"] == "basalt"
    assert settings["StateDirectory"] == "basalt"
    assert settings["KillSignal"] == "SIGTERM"
    assert settings["Restart"] == "on-failure"
    for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                "ProtectKernelTunables", "ProtectKernelModules", "RestrictAddressFamilies",
                "LimitNOFILE", "TimeoutStopSec"):
        assert key in settings, key
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; the unit was not verified")
    # verify checks that ExecStart's program exists: point it at the
    # extracted one (nothing is installed here).
    check = os.path.join(package.work, "unit-check")
    os.makedirs(check, exist_ok=True)
    with open(os.path.join(check, "basalt.service"), "w") as f:
        f.write(text.replace("/usr/bin/basalt-server", package.path("usr/bin/basalt-server")))
    r = run(["systemd-analyze", "verify", os.path.join(check, "basalt.service")])
    # Unknown keys and bad values are only warnings, so any output fails too.
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def help_options(binary):
    r = run([binary, "--help"])
    assert r.returncode == 0, r.stderr
    synopsis = r.stdout.split("defaults:")[0]
    return set(re.findall(r"--([a-z][a-z0-9-]*)", synopsis))


def test_shipped_conf_documents_every_option(package):
    options = help_options(package.path("usr/bin/basalt-server"))
    assert {"port", "data-dir", "config", "version"} <= options
    keys = set()
    with open(package.path("etc/basalt/basalt.conf")) as f:
        for line in f:
            m = re.match(r"^#?\s*([a-z][a-z0-9-]*)\s*=", line)
            if m:
                keys.add(m.group(1))
    assert keys == options - {"config", "version", "help"}


class StartedServer:
    """A server started with the given arguments only (no defaults added)."""

    def __init__(self, args, top):
        self.log_path = os.path.join(top, "server-stderr.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=log)
        try:
            lines = self._read_lines(2)
        except BaseException:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            raise
        m = LISTEN_RE.match(lines[0])
        assert m, lines
        self.port = int(m.group(2))
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.settings = lines[1].decode()

    def _read_lines(self, n):
        deadline = time.monotonic() + START_TIMEOUT_S
        fd = self.proc.stdout.fileno()
        data = b""
        while data.count(b"\n") < n:
            left = deadline - time.monotonic()
            assert left > 0, "no %d lines within %ds: %r; stderr: %s" % (
                n, START_TIMEOUT_S, data, self.stderr())
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 4096)
                assert chunk, "exit %s before listening; stderr: %s" % (
                    self.proc.wait(timeout=STOP_TIMEOUT_S), self.stderr())
                data += chunk
        return [line + b"\n" for line in data.split(b"\n")[:n]]

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            raise
        assert self.proc.returncode == 0, self.stderr()


def write_conf(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_config_file_and_command_line_override(package, tmp_path):
    data = tmp_path / "data-from-file"
    conf = write_conf(tmp_path / "basalt.conf",
                      "# a test configuration\n"
                      "address = 127.0.0.1\n"
                      "port = 0\n"
                      "\n"
                      "data-dir = %s\n"
                      "; comment\n"
                      "durability = none\n"
                      "cache-mb = 7\n"
                      "region = eu-west-1\n" % data)
    srv = StartedServer([package.path("usr/bin/basalt-server"), "--region", "us-west-2",
                         "--config", str(conf)], str(tmp_path))
    try:
        # From the file: the data directory, durability, cache size.
        assert "data-dir %s |" % data in srv.settings
        assert "durability none |" in srv.settings
        assert "cache 7 MiB |" in srv.settings
        # The command line wins over the file, wherever --config stands.
        assert "region us-west-2 |" in srv.settings
        client = make_client(srv.endpoint)
        resp = client.create_table(
            TableName="cfg", KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        assert resp["TableDescription"]["TableArn"].startswith("arn:aws:dynamodb:us-west-2:")
    finally:
        srv.stop()
    assert (data / "CURRENT").exists()


def test_packaged_conf_starts_the_server(package, tmp_path):
    # Every line of the shipped /etc/basalt/basalt.conf is accepted; the
    # command line overrides its port and data directory.
    data = tmp_path / "data"
    srv = StartedServer([package.path("usr/bin/basalt-server"),
                         "--config", package.path("etc/basalt/basalt.conf"),
                         "--port", "0", "--data-dir", str(data), "--durability", "none"],
                        str(tmp_path))
    try:
        assert "data-dir %s |" % data in srv.settings
        assert make_client(srv.endpoint).list_tables()["TableNames"] == []
    finally:
        srv.stop()


@pytest.mark.parametrize("text,message", [
    ("port = 0\nno-such-option = 1\n", ":2: unknown option --no-such-option"),
    ("port = 0\n\nport 8000\n", ":3: 'port 8000': expected key = value"),
    ("[server]\nport = 0\n", ":1: '[server]': sections are not supported"),
    ("port = 0\nport = http\n", ":2: bad value for --port: http"),
    ("durability = sometimes\n", ":1: bad value for --durability: sometimes"),
    ("version = true\n", ":1: 'version' cannot be set in a config file"),
])
def test_bad_config_files(package, tmp_path, text, message):
    conf = write_conf(tmp_path / "bad.conf", text)
    r = run([package.path("usr/bin/basalt-server"), "--config", str(conf),
             "--data-dir", str(tmp_path / "data")], timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(conf) + message in r.stderr
    assert not (tmp_path / "data").exists()


def test_flags_in_config_files(package, tmp_path):
    # Options without a value (--help shows them as "[--name]"): `name = true`
    # in a file. The server is not started: a bad --port after the file's
    # options stops it, and the message shows how the file was spliced in.
    server = package.path("usr/bin/basalt-server")
    r = run([server, "--help"])
    flags = set(re.findall(r"\[--([a-z][a-z0-9-]*)\]", r.stdout.split("defaults:")[0]))
    flags -= {"help", "version"}
    assert flags, r.stdout
    conf = tmp_path / "flags.conf"
    for flag in sorted(flags):
        for value in ("true", "false"):
            write_conf(conf, "%s = %s\n" % (flag, value))
            r = run([server, "--config", str(conf), "--port", "http"], timeout=60)
            assert r.returncode == 2, r.stdout + r.stderr
            assert "bad value for --port: http" in r.stderr, (flag, value, r.stderr)
        write_conf(conf, "%s = yes\n" % flag)
        r = run([server, "--config", str(conf)], timeout=60)
        assert r.returncode == 2
        assert "%s:1: '%s' takes no value" % (conf, flag) in r.stderr, r.stderr
        # On the command line a flag takes no value, so --config after it is read.
        write_conf(conf, "port = http\n")
        r = run([server, "--" + flag, "--config", str(conf)], timeout=60)
        assert r.returncode == 2
        assert "%s:1: bad value for --port: http" % conf in r.stderr, r.stderr


def test_unreadable_config_file(package, tmp_path):
    missing = tmp_path / "missing.conf"
    r = run([package.path("usr/bin/basalt-server"), "--config", str(missing)], timeout=60)
    assert r.returncode == 2
    assert "cannot read config file %s" % missing in r.stderr
    r = run([package.path("usr/bin/basalt-server"), "--config", str(tmp_path)], timeout=60)
    assert r.returncode == 2
    assert "cannot read config file %s" % tmp_path in r.stderr
    r = run([package.path("usr/bin/basalt-server"), "--config"], timeout=60)
    assert r.returncode == 2
    assert "--config needs a file" in r.stderr
