"""Atoll can be depended on by URL: a throwaway package that depends on a clean clone of this
repository at HEAD (by a file:// git URL, as another project would by its https one) builds,
embeds the server as the README's "Embedding" shows, and the server answers PING; it also
imports AtollClient and runs one of its patterns (compare-and-swap) against that server.

SwiftPM refuses a versioned dependency whose targets use `unsafeFlags`, so this fails as soon
as one comes back into Package.swift (the commit is tagged in the clone and required exactly). The Swift packages Atoll depends on resolve from the local
mirror (git reads github.com URLs from /opt/swift-packages here), so no network is needed.
The debug build of the dependencies (swift-nio above all) takes a few minutes.

ATOLL_DEPENDENCY_REVISION picks another commit than HEAD (e.g. to see an older one refused)."""
import os
import select
import shutil
import subprocess
import tempfile
import time

import resp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tag given to the commit under test in the throwaway clone.
VERSION = "99.0.0"

CONSUMER_MANIFEST = """// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AtollConsumer",
    dependencies: [
        .package(url: "file://{clone}", exact: "{version}"),
    ],
    targets: [
        .executableTarget(name: "atoll-consumer", dependencies: [
            .product(name: "AtollServer", package: "atoll"),
            .product(name: "AtollClient", package: "atoll"),
        ]),
    ]
)
"""

# Starts a server on a free port, runs a compare-and-swap through AtollClient against it, prints
# the outcome and the port, and stops the server when stdin closes.
CONSUMER_MAIN = """import AtollServer
import AtollClient
import AtollCore
import Glibc

var config = ServerConfiguration()
config.port = 0
let server = AtollServer(configuration: config)
try server.start()
let client = RedisClient(url: "redis://127.0.0.1:\\(server.port)")!
try await client.set("consumer", "a")
let swapped = try await client.compareAndSwap("consumer", expected: "a", newValue: "b")
print("cas", swapped, try await client.get("consumer") ?? "nil")
await client.close()
print("port", server.port)
fflush(nil)  // stdout is a pipe here: without this the line waits in the buffer
while readLine() != nil {}
server.stop()
print("stopped")
"""


def run(argv, timeout, **kwargs):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, text=True, **kwargs)


def read_line(proc, deadline):
    """One line of the consumer's output, waiting at most until `deadline`."""
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, f"no complete line from the consumer in time (got {line!r})"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 1)
            assert chunk, f"the consumer exited early (got {line!r})"
            line += chunk
    return line.decode()


def test_package_builds_as_a_dependency_and_serves():
    revision = os.environ.get("ATOLL_DEPENDENCY_REVISION") or run(
        ["git", "-C", ROOT, "rev-parse", "HEAD"], 30, check=True).stdout.strip()
    tmp = tempfile.mkdtemp(prefix="atoll-dependency-")
    try:
        clone = os.path.join(tmp, "atoll")
        result = run(["git", "clone", "--quiet", "--no-checkout", ROOT, clone], 120)
        assert result.returncode == 0, result.stdout
        # By version, as other projects depend on releases: SwiftPM lets a branch or revision
        # dependency use unsafeFlags, but not a versioned one.
        result = run(["git", "-C", clone, "tag", VERSION, revision], 30)
        assert result.returncode == 0, result.stdout
        consumer = os.path.join(tmp, "consumer")
        os.makedirs(os.path.join(consumer, "Sources", "atoll-consumer"))
        with open(os.path.join(consumer, "Package.swift"), "w") as f:
            f.write(CONSUMER_MANIFEST.format(clone=clone, version=VERSION))
        with open(os.path.join(consumer, "Sources", "atoll-consumer", "main.swift"), "w") as f:
            f.write(CONSUMER_MAIN)
        scratch = os.path.join(tmp, "scratch")
        started = time.monotonic()
        result = run(["swift", "build", "--package-path", consumer, "--scratch-path", scratch], 1200)
        print(f"consumer debug build: {time.monotonic() - started:.0f} s")
        assert result.returncode == 0, result.stdout[-4000:]

        binary = os.path.join(scratch, "debug", "atoll-consumer")
        proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=tmp)
        try:
            deadline = time.monotonic() + 30
            lines = [read_line(proc, deadline)]
            while not lines[-1].startswith("port "):
                lines.append(read_line(proc, deadline))
            assert "cas true b\n" in lines, lines
            line = lines[-1]
            port = int(line.split()[1])
            with resp.Conn(port, timeout=5) as c:
                assert c.command("PING") == b"+PONG\r\n"
            proc.stdin.close()
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        # SwiftPM's lock files for the scratch path, left in the temporary directory.
        locks = os.path.dirname(tmp)
        for name in os.listdir(locks):
            if name.startswith(tmp.replace("/", "_")):
                os.remove(os.path.join(locks, name))
