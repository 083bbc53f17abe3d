"""Hash-checked downloads against a local HTTP server on 127.0.0.1 (never the internet)."""

import hashlib
import http.server
import json
import threading

import pytest

from nst_helpers import cli, fetch
from nst_helpers.vgg import WEIGHTS_FILE_NAME

GOOD = bytes(range(256)) * 40  # 10 240 bytes
GOOD_SHA256 = hashlib.sha256(GOOD).hexdigest()
GOOD_MD5 = hashlib.md5(GOOD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path in ("/good.bin", f"/{WEIGHTS_FILE_NAME}"):
            self._send(GOOD, len(GOOD))
        elif self.path == "/corrupt.bin":
            self._send(GOOD[:-1] + b"X", len(GOOD))
        elif self.path == "/truncated.bin":
            self._send(GOOD[:4000], len(GOOD))  # announces more than it sends
        else:
            self.send_error(404, "Not Found")

    def _send(self, body, announced):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_good_file_is_verified_and_moved_into_place(server, tmp_path):
    target = tmp_path / "sub" / "good.bin"
    path = fetch.download(f"{server}/good.bin", target, sha256=GOOD_SHA256, md5=GOOD_MD5)
    assert path == target and target.read_bytes() == GOOD
    assert leftovers(target.parent) == ["good.bin"]  # no temporary file left


def test_corrupted_file_is_refused_and_nothing_is_kept(server, tmp_path):
    with pytest.raises(fetch.DownloadError, match="sha256 mismatch"):
        fetch.download(f"{server}/corrupt.bin", tmp_path / "c.bin", sha256=GOOD_SHA256)
    assert leftovers(tmp_path) == []


def test_md5_mismatch_is_refused(server, tmp_path):
    with pytest.raises(fetch.DownloadError, match="md5 mismatch"):
        fetch.download(f"{server}/corrupt.bin", tmp_path / "c.bin", md5=GOOD_MD5)
    assert leftovers(tmp_path) == []


def test_truncated_transfer_is_refused(server, tmp_path):
    with pytest.raises(fetch.DownloadError, match="truncated transfer: received 4000 of 10240"):
        fetch.download(f"{server}/truncated.bin", tmp_path / "t.bin")
    assert leftovers(tmp_path) == []


def test_http_404_is_refused(server, tmp_path):
    with pytest.raises(fetch.DownloadError, match="HTTP 404"):
        fetch.download(f"{server}/missing.bin", tmp_path / "m.bin", sha256=GOOD_SHA256)
    assert leftovers(tmp_path) == []


def test_existing_file_is_not_replaced_by_a_failed_download(server, tmp_path):
    target = tmp_path / "keep.bin"
    target.write_bytes(b"old and complete")
    with pytest.raises(fetch.DownloadError):
        fetch.download(f"{server}/corrupt.bin", target, sha256=GOOD_SHA256)
    assert target.read_bytes() == b"old and complete"


def test_bad_pins_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="64 hex digits"):
        fetch.download("http://127.0.0.1:9/x", tmp_path / "x", sha256="abc")
    with pytest.raises(ValueError, match="plain file name"):
        fetch.Pinned(url="http://127.0.0.1/x", file_name="../x.jpg", sha256=GOOD_SHA256)


def test_fetch_weights_checks_md5_and_keeps_a_good_copy(server, tmp_path):
    url = f"{server}/{WEIGHTS_FILE_NAME}"
    path = fetch.fetch_weights(tmp_path, url=url, md5=GOOD_MD5, sha256=GOOD_SHA256)
    assert path == tmp_path / WEIGHTS_FILE_NAME and path.read_bytes() == GOOD
    # A second call finds the verified file and does not download (a dead URL proves it).
    assert fetch.fetch_weights(tmp_path, url=f"{server}/missing.bin", md5=GOOD_MD5) == path
    # A corrupt copy is replaced.
    path.write_bytes(b"corrupt")
    assert fetch.fetch_weights(tmp_path, url=url, md5=GOOD_MD5).read_bytes() == GOOD


def test_fetch_weights_refuses_a_file_that_does_not_match_keras_md5(server, tmp_path):
    with pytest.raises(fetch.DownloadError, match="md5 mismatch"):
        fetch.fetch_weights(tmp_path, url=f"{server}/good.bin")  # default: Keras' md5
    assert leftovers(tmp_path) == []


def test_fetch_weights_defaults_to_the_keras_cache(server, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    path = fetch.fetch_weights(url=f"{server}/good.bin", md5=GOOD_MD5)
    assert path == tmp_path / "keras" / "models" / WEIGHTS_FILE_NAME


def test_fetch_images_verifies_each_pin(server, tmp_path):
    pinned = [fetch.Pinned(url=f"{server}/good.bin", file_name="a.jpg", sha256=GOOD_SHA256)]
    assert fetch.fetch_images(tmp_path, pinned) == [tmp_path / "a.jpg"]
    bad = [fetch.Pinned(url=f"{server}/corrupt.bin", file_name="b.jpg", sha256=GOOD_SHA256)]
    with pytest.raises(fetch.DownloadError, match="mismatch"):
        fetch.fetch_images(tmp_path, bad)
    assert leftovers(tmp_path) == ["a.jpg"]


def test_no_paintings_are_pinned_without_verified_hashes():
    assert fetch.PAINTINGS == ()


def test_cli_fetch_weights_and_images(server, tmp_path, capsys):
    code = cli.main(["fetch", "weights", "--to", str(tmp_path), "--url", f"{server}/good.bin"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert captured.err.count("\n") == 1 and "md5 mismatch" in captured.err

    code = cli.main(["fetch", "weights", "--to", str(tmp_path), "--url", f"{server}/nope"])
    assert code == 1 and "HTTP 404" in capsys.readouterr().err

    listing = tmp_path / "paintings.json"
    entry = {"url": f"{server}/good.bin", "file_name": "p.jpg", "sha256": GOOD_SHA256}
    listing.write_text(json.dumps([entry]))
    code = cli.main(["fetch", "images", "--to", str(tmp_path / "p"), "--list", str(listing)])
    assert code == 0 and capsys.readouterr().out.strip() == str(tmp_path / "p" / "p.jpg")

    listing.write_text(json.dumps([{"url": "x"}]))
    code = cli.main(["fetch", "images", "--list", str(listing)])
    captured = capsys.readouterr()
    assert code == 2 and "needs url, file_name and sha256" in captured.err

    code = cli.main(["fetch", "images", "--to", str(tmp_path / "q")])
    captured = capsys.readouterr()
    assert code == 0 and "no paintings are pinned" in captured.err and captured.out == ""
