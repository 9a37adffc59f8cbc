# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""The collection's one API layer: one wrapper per AWS call that any module makes.

Every function takes a boto3 client (never the module), retries with one policy (``retry``, below),
and raises one ``AnsibleAWSError`` subclass per service: ``OrgShareEC2Error`` (an amazon.aws
``AnsibleEC2Error``), ``OrgShareKMSError``, ``OrgShareSTSError``, ``AnsibleOrganizationsError``, ``OrgShareServiceQuotasError``,
``OrgShareSSMError``, ``OrgShareRAMError``.
Where "it is not there" is an answer rather than a failure, the wrapper says so by its return value:

- ``describe_images`` -> ``[]`` and ``get_image`` -> None: InvalidAMIID.NotFound / InvalidAMIID.Unavailable;
- ``describe_launch_permissions`` -> None: the image does not exist (any more);
- ``deregister_image`` -> False: the image is already gone;
- ``describe_snapshots`` -> only the snapshots the caller can see (a ``snapshot-id`` filter, not
  ``SnapshotIds``, so one snapshot that is gone or another account's does not fail the batch);
- ``describe_key`` -> None: NotFoundException (no such key or alias in the client's region);
- ``get_service_quota_value`` -> None: NoSuchResourceException (Service Quotas has no such quota);
- ``get_parameter`` -> None: ParameterNotFound; ``describe_parameter`` -> None: no parameter of that name;
  ``delete_parameter`` -> False: the parameter is already gone.

Callers to whom "you may not read this" is an answer too wrap a call in ``none_on(codes, ...)``.

amazon.aws's own ``module_utils/ec2.py`` image helpers are not used: their backoff starts at 3 s
(up to 60 s) where the collection's starts at 1 s, their "missing" is InvalidAMIID.Unavailable only,
and they raise ``AnsibleEC2Error`` itself, which callers catching ``OrgShareEC2Error`` would miss.
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# ---- the retry policy ------------------------------------------------------------------------------

# Retried on top of botocore's own retries; enough for a 30% throttle rate. ``RETRIES`` counts every
# attempt: amazon.aws's backoff counts the first call among its ``retries``.
RETRIES = 10
DELAY = 1
MAX_DELAY = 20
# amazon.aws's AWSRetry (module_utils/retries.py, AWSRetry.found) already retries RequestLimitExceeded
# (EC2 throttling), Throttling (STS), TooManyRequestsException (Organizations), Unavailable,
# ServiceUnavailable, InternalFailure and InternalError. It lacks KMS's throttling code, and the codes
# of server errors that come without one: botocore then gives the HTTP status as the code
# (botocore/parsers.py, the generic error parsing: ``str(response["status_code"])``), e.g. an empty
# HTTP 503. AWS retries 5xx answers ("Error retries and exponential backoff in AWS",
# https://docs.aws.amazon.com/general/latest/gr/api-retries.html); every call here is safe to repeat
# (ModifyImageAttribute and PutKeyPolicy set a state, CopyImage carries a client token).
EXTRA_RETRY_CODES = ["ThrottlingException", "500", "502", "503", "504"]
retry = AWSRetry.jittered_backoff(retries=RETRIES, delay=DELAY, max_delay=MAX_DELAY, catch_extra_error_codes=EXTRA_RETRY_CODES)
# Not retried by amazon.aws either: a principal that is new to IAM can make PutKeyPolicy answer
# MalformedPolicyDocumentException for a short while. A document that is really malformed fails the
# same way, so only three attempts in all (inside ``retry``, which still retries the throttling).
_retry_policy_propagation = AWSRetry.jittered_backoff(retries=3, delay=2, max_delay=8, catch_extra_error_codes=["MalformedPolicyDocumentException"])

# ---- errors, one type and one handler per service --------------------------------------------------


class OrgShareEC2Error(AnsibleEC2Error):
    pass


class OrgShareKMSError(AnsibleAWSError):
    pass


class OrgShareSTSError(AnsibleAWSError):
    pass


class AnsibleOrganizationsError(AnsibleAWSError):
    pass


class OrgShareServiceQuotasError(AnsibleAWSError):
    pass


class EC2ErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareEC2Error

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound"])


class KMSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareKMSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFoundException")


class STSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareSTSError


class OrganizationsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleOrganizationsError


def error_code(error):
    """The AWS error code behind an AnsibleAWSError (None when there is none)."""
    exc = getattr(error, "exception", None)
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def none_on(codes, call, *args, **kwargs):
    """``call(*args, **kwargs)``, or None when it fails with an AWS error whose code is one of ``codes``."""
    try:
        return call(*args, **kwargs)
    except is_ansible_aws_error_code(codes):
        return None


# ---- EC2 -------------------------------------------------------------------------------------------


@EC2ErrorHandler.list_error_handler("describe {what}", [])
@retry
def describe_images(client, what="images", **params):
    """DescribeImages with ``params``, every page; [] when the images named in ``ImageIds`` do not exist.

    ``what`` names the images asked for in the error message (``Failed to describe <what>``)."""
    return client.get_paginator("describe_images").paginate(**params).build_full_result().get("Images") or []


def get_image(client, image_id, include_disabled=False):
    """The image as DescribeImages gives it, or None when it does not exist in the client's region.

    A disabled AMI is left out by DescribeImages unless ``include_disabled`` (``IncludeDisabled``)."""
    params = dict(ImageIds=[image_id])
    if include_disabled:
        params["IncludeDisabled"] = True
    for image in describe_images(client, "image %s" % image_id, **params):
        if image.get("ImageId") == image_id:
            return image
    return None


@EC2ErrorHandler.list_error_handler("describe launch permissions of image {image_id}", None)
@retry
def describe_launch_permissions(client, image_id):
    """The image's raw ``LaunchPermissions`` entries (DescribeImageAttribute), or None when the image does not exist."""
    return client.describe_image_attribute(ImageId=image_id, Attribute="launchPermission").get("LaunchPermissions", [])


@EC2ErrorHandler.common_error_handler("modify launch permissions of image {image_id}")
@retry
def modify_launch_permissions(client, image_id, add=None, remove=None):
    """Add and remove structured ``LaunchPermission`` entries in one ModifyImageAttribute call.

    Does nothing (and returns False) when both lists are empty."""
    request = {}
    if add:
        request["Add"] = list(add)
    if remove:
        request["Remove"] = list(remove)
    if not request:
        return False
    client.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission=request)
    return True


@EC2ErrorHandler.common_error_handler("get the state of image block public access")
@retry
def get_image_block_public_access_state(client):
    """GetImageBlockPublicAccessState in the client's region: ``block-new-sharing`` or ``unblocked``."""
    return client.get_image_block_public_access_state().get("ImageBlockPublicAccessState")


# Snapshot ids per DescribeSnapshots call. Unverified: neither the botocore model nor the API reference
# states a maximum for SnapshotIds or for the values of a filter; 200 keeps each request small.
SNAPSHOT_BATCH = 200


@EC2ErrorHandler.common_error_handler("describe snapshots {snapshot_ids}")
@retry
def _describe_snapshot_batch(client, snapshot_ids):
    paginator = client.get_paginator("describe_snapshots")
    result = paginator.paginate(Filters=[{"Name": "snapshot-id", "Values": list(snapshot_ids)}]).build_full_result()
    return result.get("Snapshots") or []


def describe_snapshots(client, snapshot_ids):
    """The snapshots among ``snapshot_ids`` that the caller can see (DescribeSnapshots, SNAPSHOT_BATCH ids a call).

    A ``snapshot-id`` filter rather than ``SnapshotIds``: one snapshot that is not visible (another
    account's, or deleted) must not fail the whole batch (InvalidSnapshot.NotFound)."""
    ids = sorted(set(snapshot_ids))
    snapshots = []
    for start in range(0, len(ids), SNAPSHOT_BATCH):
        snapshots.extend(_describe_snapshot_batch(client, ids[start:start + SNAPSHOT_BATCH]))
    return snapshots


@EC2ErrorHandler.common_error_handler("copy image {request[SourceImageId]}")
@retry
def copy_image(client, request):
    """CopyImage in the client's (destination) region; returns the new image id."""
    return client.copy_image(**request)["ImageId"]


@EC2ErrorHandler.deletion_error_handler("deregister image {image_id}")
@retry
def deregister_image(client, image_id):
    """DeregisterImage; False when the image is already gone."""
    client.deregister_image(ImageId=image_id)
    return True


@EC2ErrorHandler.common_error_handler("describe the references to images {image_ids}")
@retry
def describe_image_references(client, image_ids):
    """DescribeImageReferences for ``image_ids`` with every resource type (``IncludeAllResourceTypes``), every page:
    the ``ImageReferences`` entries ({ImageId, ResourceType, Arn}) of the caller's resources that use the images."""
    paginator = client.get_paginator("describe_image_references")
    pages = paginator.paginate(ImageIds=list(image_ids), IncludeAllResourceTypes=True)
    return pages.build_full_result().get("ImageReferences") or []


@EC2ErrorHandler.common_error_handler("disable image {image_id}")
@retry
def disable_image(client, image_id):
    """DisableImage (owner only): the AMI can no longer be launched, is private, and DescribeImages leaves it out."""
    client.disable_image(ImageId=image_id)
    return True


@EC2ErrorHandler.common_error_handler("disable the deregistration protection of image {image_id}")
@retry
def disable_image_deregistration_protection(client, image_id):
    """DisableImageDeregistrationProtection (after a protection enabled WithCooldown, DeregisterImage still fails for 24 h)."""
    client.disable_image_deregistration_protection(ImageId=image_id)
    return True


@EC2ErrorHandler.deletion_error_handler("delete snapshot {snapshot_id}")
@retry
def delete_snapshot(client, snapshot_id):
    """DeleteSnapshot; False when the snapshot is already gone."""
    client.delete_snapshot(SnapshotId=snapshot_id)
    return True


@EC2ErrorHandler.common_error_handler("enable the deprecation of image {image_id}")
@retry
def enable_image_deprecation(client, image_id, deprecate_at):
    """EnableImageDeprecation (owner only): ``deprecate_at`` a datetime; EC2 rounds the seconds to the nearest minute."""
    client.enable_image_deprecation(ImageId=image_id, DeprecateAt=deprecate_at)
    return True


@EC2ErrorHandler.common_error_handler("disable the deprecation of image {image_id}")
@retry
def disable_image_deprecation(client, image_id):
    """DisableImageDeprecation (owner only): the image has no DeprecationTime any more."""
    client.disable_image_deprecation(ImageId=image_id)
    return True


# ---- KMS -------------------------------------------------------------------------------------------

KEY_POLICY_NAME = "default"  # the only key policy name KMS has


@KMSErrorHandler.list_error_handler("describe key {key_id}", None)
@retry
def describe_key(client, key_id):
    """The key's KeyMetadata, or None when there is no such key or alias in the client's region."""
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


@KMSErrorHandler.common_error_handler("get the policy of key {key_id}")
@retry
def get_key_policy(client, key_id):
    """The key policy document as text."""
    return client.get_key_policy(KeyId=key_id, PolicyName=KEY_POLICY_NAME)["Policy"]


@KMSErrorHandler.common_error_handler("put the policy of key {key_id}")
@retry
@_retry_policy_propagation
def put_key_policy(client, key_id, policy_text):
    client.put_key_policy(KeyId=key_id, PolicyName=KEY_POLICY_NAME, Policy=policy_text)


@EC2ErrorHandler.common_error_handler("get the Allowed AMIs settings")
@retry
def get_allowed_images_settings(client):
    """GetAllowedImagesSettings in the client's region: {State, ImageCriteria, ManagedBy} of the caller's account."""
    answer = client.get_allowed_images_settings()
    return dict((k, answer.get(k)) for k in ("State", "ImageCriteria", "ManagedBy"))


# ---- STS -------------------------------------------------------------------------------------------


@STSErrorHandler.common_error_handler("find the caller's account (sts:GetCallerIdentity)")
@retry
def caller_account_id(client):
    """The caller's account id (GetCallerIdentity)."""
    return client.get_caller_identity()["Account"]


# ---- Service Quotas --------------------------------------------------------------------------------


class ServiceQuotasErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareServiceQuotasError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchResourceException")


@ServiceQuotasErrorHandler.list_error_handler("get service quota {quota_code} of {service_code}", None)
@retry
def get_service_quota_value(client, service_code, quota_code):
    """The applied value of a quota in the client's region (GetServiceQuota), or None when Service Quotas has no such quota."""
    return client.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"].get("Value")


# ---- Organizations ---------------------------------------------------------------------------------


@OrganizationsErrorHandler.common_error_handler("describe the organization")
@retry
def describe_organization(client):
    return client.describe_organization()["Organization"]


@OrganizationsErrorHandler.common_error_handler("describe organizational unit {ou_id}")
@retry
def describe_organizational_unit(client, ou_id):
    return client.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]


@OrganizationsErrorHandler.common_error_handler("list the parents of {child_id}")
@retry
def list_parents(client, child_id):
    return client.list_parents(ChildId=child_id)["Parents"]


@OrganizationsErrorHandler.common_error_handler("describe account {account_id}")
@retry
def describe_account(client, account_id):
    return client.describe_account(AccountId=account_id)["Account"]


# ---- SSM Parameter Store ---------------------------------------------------------------------------


class OrgShareSSMError(AnsibleAWSError):
    pass


class SSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareSSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ParameterNotFound")


# TooManyUpdates: "There are concurrent updates for a resource that supports one update at a time" (botocore's SSM
# model); not retried by amazon.aws. AWS CloudFormation's own AWS::SSM::Parameter handler retries it
# (aws-cloudformation/aws-cloudformation-resource-providers-ssm, BaseHandlerStd.java). Inside ``retry``.
_retry_concurrent_updates = AWSRetry.jittered_backoff(retries=5, delay=1, max_delay=8, catch_extra_error_codes=["TooManyUpdates"])


@SSMErrorHandler.list_error_handler("get parameter {name}", None)
@retry
def get_parameter(client, name):
    """GetParameter (never decrypted): the ``Parameter`` (Name, Type, Value, Version, DataType, ARN, ...), or None when
    the parameter does not exist (ParameterNotFound) in the client's region."""
    return client.get_parameter(Name=name, WithDecryption=False)["Parameter"]


@SSMErrorHandler.common_error_handler("describe parameter {name}")
@retry
def describe_parameter(client, name):
    """DescribeParameters with the filter ``Name Equals name``: the ``ParameterMetadata`` (Tier, Description, Type,
    DataType, Version, ...), or None when no parameter has that name. Every page is read (a page may be empty)."""
    paginator = client.get_paginator("describe_parameters")
    pages = paginator.paginate(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
    found = pages.build_full_result().get("Parameters") or []
    return found[0] if found else None


@SSMErrorHandler.common_error_handler("put parameter {request[Name]}")
@retry
@_retry_concurrent_updates
def put_parameter(client, request):
    """PutParameter with ``request``; returns its answer (``Version``, ``Tier``)."""
    answer = client.put_parameter(**request)
    return {"Version": answer.get("Version"), "Tier": answer.get("Tier")}


@SSMErrorHandler.deletion_error_handler("delete parameter {name}")
@retry
@_retry_concurrent_updates
def delete_parameter(client, name):
    """DeleteParameter; False when the parameter is already gone."""
    client.delete_parameter(Name=name)
    return True


@OrganizationsErrorHandler.common_error_handler("describe the effective EC2 declarative policy of account {account_id}")
@retry
def describe_effective_declarative_policy(client, account_id):
    """The effective EC2 declarative policy of an account (DescribeEffectivePolicy, DECLARATIVE_POLICY_EC2) as a dict,
    or None when it has none (EffectivePolicyNotFoundException)."""
    try:
        answer = client.describe_effective_policy(PolicyType="DECLARATIVE_POLICY_EC2", TargetId=account_id)
    except client.exceptions.EffectivePolicyNotFoundException:
        return None
    return json.loads((answer.get("EffectivePolicy") or {}).get("PolicyContent") or "{}")


@OrganizationsErrorHandler.common_error_handler("list the accounts of {parent_id}")
@retry
def list_accounts_under(client, parent_id):
    """The ids of the accounts in a root or OU and every OU below it (ListAccountsForParent, ListOrganizationalUnitsForParent)."""
    accounts, parents = [], [parent_id]
    while parents:
        parent = parents.pop()
        pages = client.get_paginator("list_accounts_for_parent").paginate(ParentId=parent).build_full_result()
        accounts.extend(a["Id"] for a in pages.get("Accounts") or [])
        ous = client.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent).build_full_result()
        parents.extend(o["Id"] for o in ous.get("OrganizationalUnits") or [])
    return sorted(set(accounts))


@OrganizationsErrorHandler.common_error_handler("list the accounts of the organization")
@retry
def list_accounts(client):
    """The ids of every account of the caller's organization (ListAccounts)."""
    return sorted(a["Id"] for a in client.get_paginator("list_accounts").paginate().build_full_result().get("Accounts") or [])


# ---- AWS RAM (resource shares) ---------------------------------------------------------------------


class OrgShareRAMError(AnsibleAWSError):
    pass


class RAMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrgShareRAMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("UnknownResourceException")


@RAMErrorHandler.common_error_handler("find the resource shares named {name}")
@retry
def find_resource_shares(client, name):
    """The caller's ACTIVE resource shares of that name in the client's region (GetResourceShares, every page)."""
    paginator = client.get_paginator("get_resource_shares")
    pages = paginator.paginate(resourceOwner="SELF", name=name, resourceShareStatus="ACTIVE")
    return [s for s in pages.build_full_result().get("resourceShares") or [] if s.get("name") == name]


@RAMErrorHandler.common_error_handler("read the associations of resource share {share_arn}")
@retry
def resource_share_associations(client, share_arn, association_type):
    """The associated entities (``PRINCIPAL``: principals, ``RESOURCE``: resource ARNs) of a resource share that are
    associated or being associated (GetResourceShareAssociations, every page), sorted."""
    paginator = client.get_paginator("get_resource_share_associations")
    pages = paginator.paginate(associationType=association_type, resourceShareArns=[share_arn])
    found = pages.build_full_result().get("resourceShareAssociations") or []
    return sorted(set(a["associatedEntity"] for a in found if a.get("status") in ("ASSOCIATING", "ASSOCIATED")))


@RAMErrorHandler.common_error_handler("create resource share {request[name]}")
@retry
def create_resource_share(client, request):
    """CreateResourceShare with ``request``; returns the ``resourceShare`` (resourceShareArn, name, ...)."""
    return client.create_resource_share(**request)["resourceShare"]


@RAMErrorHandler.common_error_handler("add principals and resources to resource share {share_arn}")
@retry
def associate_resource_share(client, share_arn, principals=None, resource_arns=None):
    """AssociateResourceShare: adds ``principals`` and ``resource_arns`` (nothing is removed). False when both are empty."""
    request = dict(resourceShareArn=share_arn)
    if principals:
        request["principals"] = list(principals)
    if resource_arns:
        request["resourceArns"] = list(resource_arns)
    if len(request) == 1:
        return False
    client.associate_resource_share(**request)
    return True
