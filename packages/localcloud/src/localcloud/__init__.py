"""localcloud: an offline AWS of several accounts for tests. moto behind a gate that verifies SigV4 and evaluates IAM
(localcloud.gate, localcloud.evaluator), with a Lambda runtime (localcloud.lambda_runtime). It knows nothing of Pulumi
or of any project tested on it; localcloud-pulumi runs Pulumi programs against it."""
