"""Lambda code as Pulumi packages it (localcloud_pulumi.resources.archive_bytes): the idioms programs use."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pulumi
import pytest

from localcloud_pulumi.assets import UnreadableAsset
from localcloud_pulumi.resources import archive_bytes


def members(archive: pulumi.Archive) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive_bytes(archive))) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "handler.py").write_text("def handler(e, c): pass\n")
    (tmp_path / "src" / "pkg" / "util.py").write_text("X = 1\n")
    return tmp_path / "src"


def test_a_file_archive_of_a_directory_at_the_root_of_an_asset_archive(source: Path) -> None:
    """The usual idiom: AssetArchive({".": FileArchive(dir)})."""
    assert members(pulumi.AssetArchive({".": pulumi.FileArchive(str(source))})) == {
        "handler.py": b"def handler(e, c): pass\n", "pkg/util.py": b"X = 1\n"}


def test_nested_archives_and_assets_are_placed_under_their_keys(source: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "deps.tgz"
    with tarfile.open(bundle, "w:gz") as tf:
        tf.add(source / "pkg" / "util.py", arcname="vendor/lib.py")
    archive = pulumi.AssetArchive({
        "app": pulumi.FileArchive(str(source)),
        "deps": pulumi.FileArchive(str(bundle)),
        "conf": pulumi.AssetArchive({"settings.json": pulumi.StringAsset("{}")}),
        "main.py": pulumi.FileAsset(str(source / "handler.py")),
    })
    assert sorted(members(archive)) == ["app/handler.py", "app/pkg/util.py", "conf/settings.json",
                                        "deps/vendor/lib.py", "main.py"]


def test_the_same_files_make_the_same_zip(source: Path) -> None:
    assert archive_bytes(pulumi.FileArchive(str(source))) == archive_bytes(
        pulumi.AssetArchive({".": pulumi.FileArchive(str(source))}))


def test_a_remote_archive_is_refused_by_name() -> None:
    with pytest.raises(UnreadableAsset, match="remote assets and archives would need the network"):
        archive_bytes(pulumi.AssetArchive({"x": pulumi.RemoteAsset("https://example.com/x")}))
