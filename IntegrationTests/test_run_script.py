"""The README's first command, `bash scripts/run.sh [flags]`, installs what is missing, builds
and starts the server with redis-server-style flags (here on a free port), which answers and
shuts down cleanly."""
import os
import subprocess
import tempfile
import time

import resp
from servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_run_script_starts_a_server_that_answers():
    port = free_port()
    # The build's output goes to a file: a pipe nobody reads would fill and stall it.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "run.sh"), "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600  # a first build on a fresh clone takes minutes
        reply = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with resp.Conn(port, timeout=2) as c:
                    reply = c.command("PING")
                    assert reply == b"+PONG\r\n"
                    c.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
                break
            except (OSError, resp.ConnectionClosed):
                time.sleep(0.2)  # poll interval inside a bounded loop
        log.seek(0)
        assert reply == b"+PONG\r\n", log.read().decode(errors="replace")[-2000:]
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
