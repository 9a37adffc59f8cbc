"""KMS behaviour moto lacks: the AWS managed EBS key and key-policy validation.

AWS facts modelled here (see docs/aws-facts.md, "KMS keys for shared encrypted AMIs"):

- ``alias/aws/ebs`` exists in every account and region. Its key is an *AWS managed key*
  (``KeyManager: AWS``), created by EBS the first time it is needed. moto creates it as a
  customer managed key (or lists a fake alias target that DescribeKey does not know); here it is
  created lazily, with ``KeyManager: AWS`` and the policy AWS gives it.
- The policy of an AWS managed key cannot be changed: PutKeyPolicy answers
  ``AccessDeniedException`` (the key policy grants nobody ``kms:PutKeyPolicy``).
- PutKeyPolicy (and CreateKey with ``Policy``) reject a document that is not a JSON policy with
  ``MalformedPolicyDocumentException`` and a document over 32,768 bytes with
  ``LimitExceededException`` (the key policy size quota, not adjustable).
- ``PolicyName`` is optional for GetKeyPolicy / PutKeyPolicy; it defaults to ``default``.
"""

from __future__ import annotations

import json

from moto.core.exceptions import JsonRESTError
from moto.utilities.utils import get_partition

EBS_ALIAS = "alias/aws/ebs"
KEY_POLICY_MAX_BYTES = 32768

# AWS's own description of the key (DescribeKey on alias/aws/ebs).
_AWS_MANAGED_DESCRIPTIONS = {
    EBS_ALIAS: "Default master key that protects my EBS volumes when no other key is defined",
}


def aws_managed_ebs_policy(account_id, region):
    """The key policy AWS attaches to the ``aws/ebs`` key: EBS may use it on behalf of the
    account's principals (``kms:ViaService`` / ``kms:CallerAccount``); nobody else, and nobody may
    change it (no statement allows ``kms:PutKeyPolicy``)."""
    partition = get_partition(region)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "auto-ebs-2",
            "Statement": [
                {
                    "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": "ec2.%s.amazonaws.com" % region}},
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account_id)},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                    "Resource": "*",
                },
            ],
        },
        indent=2,
    )


def aws_managed_key(account_id, region, alias=EBS_ALIAS):
    """The AWS managed key behind ``alias`` in that account and region, created on first use."""
    from moto.kms.models import kms_backends

    backend = kms_backends[account_id][region]
    return backend.keys[backend.get_key_id_from_alias(alias)]


def find_key(key_ref, account_id, region):
    """Resolve a key id, key ARN, alias name or alias ARN as EC2 does for ``KmsKeyId``.

    A key ARN or alias ARN names its own account and region; the rest are looked up in
    (account_id, region). Returns the moto Key, or None when there is no such key there."""
    from moto.kms.models import kms_backends

    if not key_ref:
        return None
    acct, reg = account_id, region
    if key_ref.startswith("arn:"):
        parts = key_ref.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms":
            return None
        reg, acct = parts[3], parts[4]
        if reg != region:
            return None  # KMS keys are regional: a key of another region is no key here
    try:
        backend = kms_backends[acct][reg]
        return backend.keys.get(backend.any_id_to_key_id(key_ref))
    except Exception:  # unknown alias, malformed id
        return None


def _malformed(message):
    return JsonRESTError("MalformedPolicyDocumentException", message)


def validate_policy_document(policy):
    """Raise what KMS raises for a policy document that is too large or not a policy."""
    if policy is None:
        return
    if len(policy.encode("utf-8")) > KEY_POLICY_MAX_BYTES:
        raise JsonRESTError(
            "LimitExceededException",
            "Policy document exceeds the maximum size of %d bytes (got %d)." % (KEY_POLICY_MAX_BYTES, len(policy.encode("utf-8"))),
        )
    try:
        doc = json.loads(policy)
    except ValueError as e:
        raise _malformed("The key policy is not a valid JSON document: %s" % e)
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _malformed("Policy document must be a JSON object with a non-empty Statement.")
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny") or "Principal" not in st and "NotPrincipal" not in st:
            raise _malformed("Each statement needs Effect (Allow|Deny) and Principal: %s" % json.dumps(st)[:200])
        if "Action" not in st and "NotAction" not in st:
            raise _malformed("Each statement needs Action: %s" % json.dumps(st)[:200])


def apply():
    from moto.ec2.models.elastic_block_store import EBSBackend
    from moto.kms.models import KmsBackend
    from moto.kms.responses import KmsResponse
    from moto.kms.utils import RESERVED_ALIASES

    def _generate_default_keys(self, alias_name):
        """AWS managed keys (alias/aws/*) are created by the service on first use, KeyManager AWS."""
        if alias_name not in RESERVED_ALIASES:
            return None
        key = self.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", _AWS_MANAGED_DESCRIPTIONS.get(alias_name, "Default key"), None)
        key.key_manager = "AWS"
        if alias_name == EBS_ALIAS:
            key.policy = aws_managed_ebs_policy(self.account_id, self.region_name)
        self.create_alias(key.id, alias_name)
        return key.id

    KmsBackend._generate_default_keys = _generate_default_keys

    def _create_default_encryption_key(self):
        """EBS's default key is the AWS managed aws/ebs key (moto made a customer managed one)."""
        key = aws_managed_key(self.account_id, self.region_name)
        self.default_kms_key_id = key.arn
        return key.arn

    EBSBackend._create_default_encryption_key = _create_default_encryption_key

    orig_list_aliases = KmsResponse.list_aliases

    def list_aliases(self):
        # ListAliases shows aws/ebs in every region; make its TargetKeyId a real key.
        if self._get_param("KeyId") is None:
            aws_managed_key(self.current_account, self.region)
        return orig_list_aliases(self)

    KmsResponse.list_aliases = list_aliases

    orig_create = KmsResponse.create_key

    def _policy_name(self):
        # PolicyName is optional and defaults to "default", the only valid value.
        name = self._get_param("PolicyName") or "default"
        if name != "default":
            raise JsonRESTError("NotFoundException", "No such policy exists")

    def put_key_policy(self):
        _policy_name(self)
        key_id = self._get_param("KeyId")
        self._validate_cmk_id(key_id)
        key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
        if key.key_manager == "AWS":
            partition = get_partition(self.region)
            raise JsonRESTError(
                "AccessDeniedException",
                "User: arn:%s:iam::%s:root is not authorized to perform: kms:PutKeyPolicy on resource: %s "
                "because no resource-based policy allows the kms:PutKeyPolicy action" % (partition, self.current_account, key.arn),
            )
        policy = self._get_param("Policy")
        validate_policy_document(policy)
        self.kms_backend.put_key_policy(key_id, policy)
        return json.dumps(None)

    def get_key_policy(self):
        _policy_name(self)
        key_id = self._get_param("KeyId")
        self._validate_cmk_id(key_id)
        return json.dumps({"Policy": self.kms_backend.get_key_policy(key_id) or "{}", "PolicyName": "default"})

    def create_key(self):
        validate_policy_document(self._get_param("Policy"))
        return orig_create(self)

    KmsResponse.put_key_policy = put_key_policy
    KmsResponse.get_key_policy = get_key_policy
    KmsResponse.create_key = create_key

    # AWS accepts a key ARN wherever a KeyId is asked for; moto's backend wants the bare id for these.
    for name in (
        "disable_key", "enable_key", "cancel_key_deletion", "schedule_key_deletion",
        "enable_key_rotation", "disable_key_rotation", "get_key_rotation_status",
    ):
        _accept_key_arn(KmsBackend, name)


def _accept_key_arn(cls, name):
    orig = getattr(cls, name)

    def method(self, key_id, *args, **kwargs):
        return orig(self, self.get_key_id(key_id), *args, **kwargs)

    method.__name__ = name
    method.__doc__ = orig.__doc__
    setattr(cls, name, method)
