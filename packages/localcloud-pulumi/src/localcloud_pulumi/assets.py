"""Pulumi assets and archives read as the Pulumi engine reads them: the one reader for the deploy driver (which
uploads them) and synth (which digests them). Only local ones: a remote asset or archive would need the network.

Relative paths are relative to ``base``, the project directory, as under `pulumi`.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pulumi

ZIP_SUFFIXES = (".zip", ".jar")
TAR_SUFFIXES = (".tar", ".tgz", ".tar.gz")


class UnreadableAsset(ValueError):
    """An asset or archive that cannot be read offline; the message names it."""


def asset_bytes(asset: Any, base: Path) -> bytes:
    """A FileAsset's or StringAsset's bytes."""
    if isinstance(asset, pulumi.FileAsset):
        return _local(asset.path, base).read_bytes()
    if isinstance(asset, pulumi.StringAsset):
        return asset.text.encode()
    raise UnreadableAsset(f"localcloud cannot read an asset of type {type(asset).__name__} (remote assets would "
                          "need the network)")


def archive_files(archive: Any, base: Path) -> dict[str, bytes]:
    """The files of an archive as Pulumi packages them: a FileArchive's directory tree or the members of its
    .zip / .jar / .tar / .tgz, and an AssetArchive's entries, a nested archive's files placed under its key (the key
    "." is the root)."""
    if isinstance(archive, pulumi.FileArchive):
        path = _local(archive.path, base)
        if path.is_dir():
            return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
        if path.suffix in ZIP_SUFFIXES:
            with zipfile.ZipFile(path) as zf:
                return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
        if path.name.endswith(TAR_SUFFIXES):
            with tarfile.open(path) as tf:
                readers = ((m.name, tf.extractfile(m)) for m in tf.getmembers() if m.isfile())
                return {name: reader.read() for name, reader in readers if reader is not None}
        raise UnreadableAsset(f"localcloud cannot package the FileArchive {archive.path!r}: not a directory, .zip, "
                              ".jar, .tar or .tgz")
    if isinstance(archive, pulumi.AssetArchive):
        files: dict[str, bytes] = {}
        for name, entry in archive.assets.items():
            if isinstance(entry, pulumi.Archive):
                for inner, data in archive_files(entry, base).items():
                    files[posixpath.normpath(posixpath.join(name, inner))] = data
            elif isinstance(entry, (pulumi.FileAsset, pulumi.StringAsset)):
                files[posixpath.normpath(name)] = asset_bytes(entry, base)
            else:
                raise UnreadableAsset(f"localcloud cannot package the entry {name!r} of type {type(entry).__name__} "
                                      "(remote assets and archives would need the network)")
        return files
    raise UnreadableAsset(f"localcloud cannot package an archive of type {type(archive).__name__} (remote assets "
                          "and archives would need the network)")


def archive_zip(archive: Any, base: Path) -> bytes:
    """The zip the provider would upload for an archive: a .zip FileArchive as it is, anything else zipped with
    fixed timestamps, so the same files always make the same zip (and the same digest)."""
    if isinstance(archive, pulumi.FileArchive) and archive.path.endswith(".zip"):
        return _local(archive.path, base).read_bytes()
    files = archive_files(archive, base)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return buffer.getvalue()


def _local(path: str, base: Path) -> Path:
    return Path(path) if Path(path).is_absolute() else base / path
