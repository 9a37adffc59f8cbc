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
- "The principals in the key policy must exist and be visible to KMS" (PutKeyPolicy, ``Policy``, in
  botocore's KMS model, service-2.json): a statement that names an IAM user or role that does not
  exist, or the unique id (``AIDA...`` user, ``AROA...`` role; IAM User Guide, "IAM identifiers",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html) that a key policy
  shows for a deleted one, is refused with ``MalformedPolicyDocumentException: Policy contains a
  statement with one or more invalid principals.`` (AWS Knowledge Center, "How can I resolve the AWS
  KMS key policy error 'Policy contains a statement with one or more invalid principals'?",
  https://repost.aws/knowledge-center/kms-policy-error-invalid-principals). Account principals
  (ids, ``:root`` ARNs), ``*`` and service principals are not checked (unverified whether AWS checks
  that an account exists).
- The lockout safety check (PutKeyPolicy / CreateKey ``Policy`` and ``BypassPolicyLockoutSafetyCheck``
  in botocore's KMS model): unless bypassed, the policy must allow the caller to call PutKeyPolicy
  again, else ``MalformedPolicyDocumentException: The new key policy will not allow you to update
  the key policy in the future.`` (the message as AWS gives it, quoted in public issue threads, e.g.
  terraform-aws-modules/terraform-aws-kms#14; AWS Knowledge Center "update-key-policy-future").
  Modelled: some ``Allow`` statement whose Action matches ``kms:PutKeyPolicy`` names ``*``, the
  caller's account (id or root ARN) or an IAM user or role of the caller's account. How AWS weighs
  conditions, and an IAM principal other than the caller, is unverified; the emulator is lenient.
- Deleting an IAM user or role turns its ARN in every key policy into its unique id (the Knowledge
  Center page above: the policy "contains a principal with a unique ID that is similar to
  AIDACKCEVSQ6C2EXAMPLE" once the user is gone; IAM User Guide, "AWS JSON policy elements:
  Principal", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html:
  a deleted role's ARN in a policy is shown as its unique id). moto's user ids are not ``AIDA...``
  ids, so a deleted user's is made into one.
- A statement without ``Action`` or ``Resource`` is accepted: "the PutKeyPolicy API request succeeds,
  even though the policy statement is ineffective" (the same botocore documentation).
"""

from __future__ import annotations

import fnmatch
import json
import re

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


INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."
# IAM unique ids of users (AIDA) and roles (AROA): what a key policy shows for a deleted one.
_UNIQUE_ID = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{12,}$")
_IAM_ENTITY = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$")


def _aws_principals(statement):
    out = []
    for field in ("Principal", "NotPrincipal"):
        principal = statement.get(field)
        if isinstance(principal, dict):
            values = principal.get("AWS", [])
            out.extend(values if isinstance(values, list) else [values])
    return [v for v in out if isinstance(v, str)]


def _entity_exists(partition, account_id, kind, name):
    from moto.iam.models import iam_backends

    try:
        backend = iam_backends[account_id][partition]  # moto keeps IAM per account and partition
    except KeyError:
        return False
    try:
        if kind == "user":
            backend.get_user(name)
        else:
            backend.get_role(name)
        return True
    except Exception:  # noqa: BLE001 - moto's NoSuchEntity
        return False


def check_principals(doc):
    """MalformedPolicyDocumentException for a unique id or an IAM user / role that does not exist."""
    for st in doc.get("Statement") if isinstance(doc.get("Statement"), list) else [doc.get("Statement")]:
        if not isinstance(st, dict):
            continue
        for value in _aws_principals(st):
            if _UNIQUE_ID.match(value):
                raise _malformed(INVALID_PRINCIPALS)
            m = _IAM_ENTITY.match(value)
            if m and not _entity_exists(m.group(1), m.group(2), m.group(3), m.group(4)):
                raise _malformed(INVALID_PRINCIPALS)


def _action_matches(actions, wanted="kms:putkeypolicy"):
    actions = actions if isinstance(actions, list) else [actions]
    return any(isinstance(a, str) and fnmatch.fnmatchcase(wanted, a.lower()) for a in actions)


def check_lockout(doc, account_id):
    """MalformedPolicyDocumentException when no Allow statement lets the caller's account call PutKeyPolicy."""
    statements = doc.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow" or not _action_matches(st.get("Action", [])):
            continue
        principal = st.get("Principal")
        if principal == "*":
            return
        for value in _aws_principals(st):
            if value in ("*", account_id) or value.endswith(":iam::%s:root" % account_id):
                return
            m = _IAM_ENTITY.match(value)
            if m and m.group(2) == account_id:
                return
    raise _malformed(LOCKOUT)


def validate_policy_document(policy, account_id=None, bypass_lockout=False):
    """Raise what KMS raises for a policy document that is too large, not a policy, names principals that do not
    exist, or (unless ``bypass_lockout``, or no ``account_id`` is given) would lock the caller out."""
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
    check_principals(doc)
    if account_id is not None and not bypass_lockout:
        check_lockout(doc, account_id)


def _unique_id(entity, prefix):
    found = str(getattr(entity, "id", "") or "")
    if found.startswith(prefix):
        return found
    return prefix + (re.sub(r"[^A-Z0-9]", "", found.upper()) + "X" * 17)[:17]


def orphan_principal(arn, unique_id):
    """Every key policy that names ``arn`` now names ``unique_id`` instead (as KMS shows a deleted principal)."""
    from moto.kms.models import kms_backends

    for _account, regions in list(kms_backends.items()):
        for _region, backend in list(regions.items()):
            for key in list(backend.keys.values()):
                policy = getattr(key, "policy", None)
                if isinstance(policy, str) and arn in policy:
                    key.policy = policy.replace(json.dumps(arn), json.dumps(unique_id))


def _patch_iam_deletions():
    from moto.iam.models import IAMBackend

    orig_delete_role = IAMBackend.delete_role
    orig_delete_user = IAMBackend.delete_user

    def delete_role(self, role_name):
        role = self.get_role(role_name)
        arn, unique = role.arn, _unique_id(role, "AROA")
        orig_delete_role(self, role_name)
        orphan_principal(arn, unique)

    def delete_user(self, user_name):
        user = self.get_user(user_name)
        arn, unique = user.arn, _unique_id(user, "AIDA")
        orig_delete_user(self, user_name)
        orphan_principal(arn, unique)

    IAMBackend.delete_role = delete_role
    IAMBackend.delete_user = delete_user


def apply():
    from moto.ec2.models.elastic_block_store import EBSBackend

    _patch_iam_deletions()
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
        """ListAliases: "The response might also include aliases that have no TargetKeyId field. These are predefined
        aliases that Amazon Web Services has created but has not yet associated with a KMS key" (ListAliases in
        botocore's KMS model). moto lists each predefined alias (alias/aws/ebs, ...) whose key does not exist yet with
        a made-up TargetKeyId that no key has; here without one. Listing does not create the key."""
        answer = json.loads(orig_list_aliases(self))
        backed = {alias.alias_name for alias in self.kms_backend.list_aliases()}
        for entry in answer.get("Aliases", []):
            if entry.get("AliasName") in RESERVED_ALIASES and entry["AliasName"] not in backed:
                entry.pop("TargetKeyId", None)
        return json.dumps(answer)

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
        validate_policy_document(policy, self.current_account, bool(self._get_param("BypassPolicyLockoutSafetyCheck")))
        self.kms_backend.put_key_policy(key_id, policy)
        return json.dumps(None)

    def get_key_policy(self):
        _policy_name(self)
        key_id = self._get_param("KeyId")
        self._validate_cmk_id(key_id)
        return json.dumps({"Policy": self.kms_backend.get_key_policy(key_id) or "{}", "PolicyName": "default"})

    def create_key(self):
        validate_policy_document(self._get_param("Policy"), self.current_account, bool(self._get_param("BypassPolicyLockoutSafetyCheck")))
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
