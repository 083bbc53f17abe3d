"""Hash-checked downloads: the ImageNet VGG19 weights and optional public-domain paintings.

``download(url, destination, sha256=..., md5=...)`` streams to a temporary file next to
the destination, hashing on the way, checks the length the server announced and the
pinned hashes, and only then renames the file into place (atomic): a failed, truncated
or tampered download never leaves a file that looks complete. No resuming.

``fetch_weights`` puts VGG19's no-top weights into Keras' cache (where
``keras.applications`` and ``nst_helpers.vgg`` look) and checks the md5 that Keras
publishes (``vgg.WEIGHTS_MD5``). Keras publishes no sha256 for that file and it could
not be computed here (no internet), so a sha256 pin is optional (``sha256=`` /
``nst fetch weights --sha256``): pin it once you have a copy you trust.

``PAINTINGS`` is empty on purpose: the hashes of candidate paintings on Wikimedia
Commons could not be checked from the offline machine this was written on, and an
unverified pin is worse than none. ``fetch_images`` takes a list of ``Pinned`` entries
(or a JSON file of them: ``nst fetch images --list FILE``); every entry needs a sha256.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from nst_helpers import __version__
from nst_helpers.vgg import WEIGHTS_FILE_NAME, WEIGHTS_MD5, WEIGHTS_URL, keras_cache_dir

USER_AGENT = f"nst-course/{__version__} (hash-checked downloads)"
CHUNK_BYTES = 1 << 20


class DownloadError(RuntimeError):
    """A download failed: network or HTTP error, truncated transfer, or wrong hash."""


@dataclasses.dataclass(frozen=True)
class Pinned:
    """A file to download, pinned by its sha256 (hex), with its provenance."""

    url: str
    file_name: str
    sha256: str
    licence: str = ""
    description: str = ""

    def __post_init__(self):
        if not _is_hex(self.sha256, 64):
            raise ValueError(
                f"{self.file_name}: sha256 must be 64 hex digits, got {self.sha256!r}."
            )
        if Path(self.file_name).name != self.file_name or not self.file_name:
            raise ValueError(f"file_name must be a plain file name, got {self.file_name!r}.")


#: Public-domain paintings to fetch with ``nst fetch images``. Empty: see the module's
#: docstring. To add one: download it where you trust the connection, check its licence
#: on its Commons page, run ``sha256sum`` on it, and add
#: ``Pinned(url=..., file_name=..., sha256=..., licence="public domain", description=...)``.
PAINTINGS: tuple[Pinned, ...] = ()


def _is_hex(text, length: int) -> bool:
    return (
        isinstance(text, str)
        and len(text) == length
        and all(c in "0123456789abcdef" for c in text.lower())
    )


def file_digests(path) -> dict[str, str]:
    """The md5 and sha256 (hex) of a file, read in chunks."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            md5.update(chunk)
            sha256.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest()}


def _check_digests(digests: dict, sha256: str | None, md5: str | None, what: str) -> None:
    for name, expected in (("sha256", sha256), ("md5", md5)):
        if expected is not None and digests[name] != expected.lower():
            raise DownloadError(
                f"{what}: {name} mismatch (expected {expected.lower()}, got {digests[name]}); "
                "the file is corrupt or not the one pinned. Nothing was kept."
            )


def download(url: str, destination, *, sha256=None, md5=None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination``, verified, atomically; return the destination.

    Args:
        url: an http(s) URL.
        destination: the final file path; its folder is created.
        sha256, md5: expected hex digests (either, both or none).
        timeout: seconds to wait for the server at each read.

    Raises:
        DownloadError: HTTP error, network error, truncated transfer or hash mismatch.
    """
    for name, value, length in (("sha256", sha256, 64), ("md5", md5, 32)):
        if value is not None and not _is_hex(value, length):
            raise ValueError(f"{name} must be {length} hex digits, got {value!r}.")
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            received, announced = _stream_to(url, stream, timeout)
        if announced is not None and received != announced:
            raise DownloadError(
                f"{url}: truncated transfer: received {received} of {announced} bytes. Try again."
            )
        _check_digests(file_digests(temporary), sha256, md5, url)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


def _stream_to(url: str, stream, timeout: float) -> tuple[int, int | None]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    received = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            announced = int(length) if length and length.isdigit() else None
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except http.client.IncompleteRead as error:
                    received += len(error.partial)
                    break
                if not chunk:
                    break
                stream.write(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}.") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise DownloadError(f"{url}: download failed ({error}). Check the connection.") from None
    return received, announced


def fetch_weights(folder=None, *, url: str = WEIGHTS_URL, md5=WEIGHTS_MD5, sha256=None) -> Path:
    """Put VGG19's no-top ImageNet weights into ``folder`` (Keras' cache by default).

    An existing file that passes the checks is kept; one that fails them is replaced.

    Args:
        folder: where to put the file; default ``vgg.keras_cache_dir()``.
        url: where to download it from.
        md5: the expected md5 (Keras' published one by default; None skips it).
        sha256: an optional sha256 pin (no official one is published).

    Returns:
        The path of the verified weights file.
    """
    destination = Path(folder or keras_cache_dir()) / WEIGHTS_FILE_NAME
    if destination.is_file():
        try:
            _check_digests(file_digests(destination), sha256, md5, str(destination))
            return destination
        except DownloadError:
            pass  # corrupt or different: download again
    return download(url, destination, sha256=sha256, md5=md5)


def read_pinned_list(path) -> list[Pinned]:
    """Read a JSON list of ``{"url", "file_name", "sha256", "licence", "description"}``."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read the list of images ({error}).") from None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of entries with url, file_name, sha256.")
    fields = {field.name for field in dataclasses.fields(Pinned)}
    pinned = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not {"url", "file_name", "sha256"} <= set(entry):
            raise ValueError(f"{path}: entry {index} needs url, file_name and sha256.")
        pinned.append(Pinned(**{key: entry[key] for key in entry if key in fields}))
    return pinned


def fetch_images(folder, pinned=PAINTINGS) -> list[Path]:
    """Download each ``Pinned`` image into ``folder`` (verified by sha256); return the paths.

    Files already there with the right hash are kept.
    """
    paths = []
    for item in pinned:
        destination = Path(folder) / item.file_name
        if destination.is_file() and file_digests(destination)["sha256"] == item.sha256.lower():
            paths.append(destination)
            continue
        paths.append(download(item.url, destination, sha256=item.sha256))
    return paths
