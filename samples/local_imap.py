"""A throwaway Dovecot IMAP server on 127.0.0.1, for the tests and `pilkada demo --mail`.

Debian's `dovecot-imapd` (`make services`) is started with a temporary configuration: one user
from a passwd-file, a maildir in a temporary folder, no TLS, a free unprivileged port; nothing
of the system's own Dovecot is used or changed. Dovecot refuses to open mail as root, so when run
as root the maildir belongs to `nobody`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOVECOT = os.environ.get("PILKADA_DOVECOT", "/usr/sbin/dovecot")


class DovecotMissing(RuntimeError):
    """Dovecot is not installed: the mail tests and the mail demo need it (`make services`)."""


@dataclass(frozen=True)
class LocalImap:
    host: str
    port: int
    user: str
    password: str
    root: Path  # the temporary folder: config, maildir, log (removed when the server stops)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mail_owner() -> tuple[int, int]:
    """The uid/gid that owns the maildir: ours, or `nobody`'s when we are root."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _config(root: Path, port: int, uid: int, gid: int) -> str:
    login = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() != 0 else "nobody"
    return f"""\
base_dir = {root}/run
state_dir = {root}/run
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
first_valid_gid = 0
default_login_user = {login}
default_internal_user = {login}
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
"""


@contextmanager
def local_imap(user: str = "desk-pilkada", password: str = "uji-imap") -> Iterator[LocalImap]:
    """Start Dovecot in a fresh temporary folder, wait until it answers, and stop it (by its
    own pid) and remove the folder after. The folder is its own (not a test's `tmp_path`, which
    is private to us): Dovecot's helpers run as another user and must reach its files."""
    if not (Path(DOVECOT).is_file() and os.access(DOVECOT, os.X_OK)):
        raise DovecotMissing(f"Dovecot tidak ditemukan di {DOVECOT}: jalankan `make services` "
                             "(memasang dovecot-imapd dari apt) untuk uji dan demo surel.")
    root = Path(tempfile.mkdtemp(prefix="pilkada-imap-"))
    root.chmod(0o755)
    (root / "run").mkdir()
    mail = root / "mail"
    mail.mkdir(exist_ok=True)
    uid, gid = _mail_owner()
    if os.geteuid() == 0:
        os.chown(mail, uid, gid)
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}::::::\n", encoding="utf-8")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, uid, gid), encoding="utf-8")
    with (root / "start.log").open("wb") as out:  # not a pipe: the daemon would hold it open
        started = subprocess.run([DOVECOT, "-c", str(conf)], stdout=out, stderr=out, check=False)
    if started.returncode:
        raise RuntimeError("Dovecot tidak dapat dijalankan: "
                           + (root / "start.log").read_text(errors="replace")[-2000:])
    pid_file = root / "run" / "master.pid"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if s.recv(64).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text(errors="replace")[-2000:] \
                    if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"Dovecot tidak menjawab di 127.0.0.1:{port}\n{log}")
            time.sleep(0.1)
        yield LocalImap("127.0.0.1", port, user, password, root)
    finally:
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            try:
                os.kill(pid, 15)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)
