"""What the KMS gate tests share: the accounts' principals and the default key policy's statement
(key-policy-default.html)."""

from __future__ import annotations

from localcloud_testing.builders import DEV, PROD

PROD_ROOT = f"arn:aws:iam::{PROD}:root"
DEV_ROOT = f"arn:aws:iam::{DEV}:root"
DEFAULT_STATEMENT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": PROD_ROOT},
                     "Action": "kms:*", "Resource": "*"}
