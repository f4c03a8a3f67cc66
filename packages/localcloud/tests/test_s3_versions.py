"""S3 versioning as a force-destroyed bucket meets it: versioning suspended, then every version and delete marker
deleted by VersionId, then the bucket (DeleteObjects.html: "To delete a delete marker, specify its version ID";
Versioning-workflows.html: suspending keeps the existing versions)."""

from __future__ import annotations

from localcloud_testing.builders import Builder


def test_the_versions_and_delete_markers_of_a_key_are_deleted_by_version_id(build: Builder):
    bucket = build.bucket("prod")
    s3 = build.cloud.client("s3", "prod")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"one")
    s3.delete_object(Bucket=bucket, Key="a.txt")  # a delete marker on top of the version
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    listed = s3.list_object_versions(Bucket=bucket)
    doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
              for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]
    assert len(doomed) == 2

    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})

    assert not answer.get("Errors") and len(answer["Deleted"]) == 2
    after = s3.list_object_versions(Bucket=bucket)
    assert not after.get("Versions") and not after.get("DeleteMarkers")
    s3.delete_bucket(Bucket=bucket)
