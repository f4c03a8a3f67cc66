"""localcloud's IAM policy evaluator: decides requests the way AWS authorizes them.

Pure (standard library only): the gate builds an AccessRequest from its state and asks ``evaluate``.
"""

from localcloud.iam.evaluation import AccessRequest, Caller, Decision, evaluate

__all__ = ["AccessRequest", "Caller", "Decision", "evaluate"]
