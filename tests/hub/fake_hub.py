"""A local server speaking the parts of the Hugging Face Hub's HTTP protocol a download uses.

    hub = FakeHub().start()                       # http://127.0.0.1:<port>
    commit = hub.add_repo("owner/repo", {"lora.safetensors": data})
    hub.commit("owner/repo", {"lora.safetensors": newer})   # main moves on
    hub.cut_after["lora.safetensors"] = 600_000   # close the connection at that byte offset
    hub.corrupt.add("lora.safetensors")           # flip a byte, keep announcing the true hash
    hub.ignore_range = True                       # answer Range requests with 200 + everything
    hub.requests                                  # [(method, path, headers)] seen so far

Routes: ``HEAD|GET /{repo}/resolve/{rev}/{path}`` (X-Repo-Commit, ETag = SHA-256, X-Linked-Size,
Accept-Ranges, 206 + Content-Range for Range requests), ``GET /api/models/{repo}[/revision/{rev}]``
and ``GET /api/models/{repo}/tree/{rev}``; errors carry ``X-Error-Code`` as the Hub's do.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

_commit_counter = itertools.count(1)


@dataclass
class FakeRepo:
    repo_id: str
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> {path: bytes}
    branches: dict[str, str] = field(default_factory=dict)
    token: str | None = None  # gated: requests must carry "Bearer <token>"

    def resolve(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        matches = [sha for sha in self.commits if sha.startswith(revision)]
        return matches[0] if len(matches) == 1 else None


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.cut_after: dict[str, int] = {}  # path -> absolute byte offset to stop at
        self.corrupt: set[str] = set()
        self.ignore_range = False  # answer Range requests with the whole file (200)
        self._server: ThreadingHTTPServer | None = None

    # --- content -----------------------------------------------------------------------

    def add_repo(self, repo_id: str, files: dict[str, bytes], *, token: str | None = None) -> str:
        self.repos[repo_id] = FakeRepo(repo_id, token=token)
        return self.commit(repo_id, files)

    def commit(self, repo_id: str, files: dict[str, bytes], branch: str = "main") -> str:
        """A new commit on ``branch`` with ``files`` changed or added; returns its sha."""
        repo = self.repos[repo_id]
        parent = repo.commits.get(repo.branches.get(branch, ""), {})
        sha = hashlib.sha1(f"{repo_id}-{next(_commit_counter)}".encode()).hexdigest()
        repo.commits[sha] = {**parent, **files}
        repo.branches[branch] = sha
        return sha

    def range_requests(self, path: str) -> list[str]:
        """The Range headers of the GETs for ``path``."""
        return [
            h.get("Range", "")
            for m, p, h in self.requests
            if m == "GET" and p.endswith(f"/{path}") and "/resolve/" in p and "Range" in h
        ]

    # --- server ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for it at the end of every test.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_API = re.compile(
    r"^/api/models/(?P<repo>[^/]+/[^/]+)"
    r"(?:/revision/(?P<rev>[^/]+)|/tree/(?P<tree>[^/]+)(?:/(?P<sub>.*))?)?$"
)
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.fake.requests.append((self.command, path, dict(self.headers)))
        if m := _RESOLVE.match(path):
            self._resolve(m["repo"], m["rev"], m["path"], head)
        elif m := _API.match(path):
            self._api(m["repo"], m["rev"], m["tree"])
        else:
            self._error(404, "RepoNotFound", "not found")

    # --- routes --------------------------------------------------------------------------

    def _resolve(self, repo_id: str, revision: str, path: str, head: bool) -> None:
        found = self._repo_at(repo_id, revision)
        if found is None:
            return
        repo, sha = found
        content = repo.commits[sha].get(path)
        if content is None:
            self._error(404, "EntryNotFound", f"{path} does not exist at {sha}")
            return
        digest = hashlib.sha256(content).hexdigest()
        if path in self.fake.corrupt:
            content = bytes([content[0] ^ 0xFF]) + content[1:]
        start, status = 0, 200
        wanted = "" if self.fake.ignore_range else self.headers.get("Range", "")
        if not head and (m := _RANGE.match(wanted)):
            start, status = int(m[1]), 206
        body = content[start:]
        self.send_response(status)
        self.send_header("X-Repo-Commit", sha)
        self.send_header("ETag", f'"{digest}"')
        self.send_header("X-Linked-Size", str(len(content)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
        self.end_headers()
        if head:
            return
        cut = self.fake.cut_after.get(path)
        if cut is not None and start + len(body) > cut:
            self.wfile.write(body[: max(cut - start, 0)])
            self.wfile.flush()
            self.close_connection = True  # the client sees the body end early
            return
        self.wfile.write(body)

    def _api(self, repo_id: str, revision: str | None, tree: str | None) -> None:
        found = self._repo_at(repo_id, tree or revision or "main")
        if found is None:
            return
        repo, sha = found
        files = repo.commits[sha]
        if tree is not None:
            self._json([_tree_entry(p, c) for p, c in sorted(files.items())])
            return
        siblings = [{"rfilename": p} for p in sorted(files)]
        self._json({"id": repo_id, "modelId": repo_id, "sha": sha, "siblings": siblings})

    # --- helpers -------------------------------------------------------------------------

    def _repo_at(self, repo_id: str, revision: str) -> tuple[FakeRepo, str] | None:
        repo = self.fake.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found")
            return None
        if repo.token and self.headers.get("Authorization") != f"Bearer {repo.token}":
            self._error(401, "GatedRepo", "Access to this model is restricted")
            return None
        sha = repo.resolve(revision)
        if sha is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return None
        return repo, sha

    def _json(self, data: object) -> None:
        raw = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str) -> None:
        raw = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)


def _tree_entry(path: str, content: bytes) -> dict[str, object]:
    sha256 = hashlib.sha256(content).hexdigest()
    pointer = (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(content)}\n"
    )
    return {
        "type": "file",
        "oid": hashlib.sha1(pointer.encode()).hexdigest(),
        "size": len(content),
        "path": path,
        "lfs": {"oid": sha256, "size": len(content), "pointerSize": len(pointer)},
    }
