"""AMI lifecycle and governance moto lacks: DescribeImageReferences, deregistration protection, Allowed AMIs.

Each behaviour names its AWS source (docs/emulator.md, "Retiring AMIs and Allowed AMIs", lists them with what is
unverified). In short:

Image references (DescribeImageReferences)
  The caller's resources in its account and Region that reference the given AMIs: instances launched from them (any
  state by default), launch templates one of whose 10 most recent versions names them, String SSM parameters whose
  value is the AMI id. ``ResourceTypes`` / ``IncludeAllResourceTypes`` with ``ResourceTypeOptions`` (``state-name``,
  ``version-depth``) scope it; ``MaxResults`` / ``NextToken`` page it.

Deregistration protection (Enable/DisableImageDeregistrationProtection, DeregisterImage)
  A protected AMI cannot be deregistered; one protected ``WithCooldown`` stays undeletable for 24 hours after the
  protection is turned off. DescribeImages and DescribeImageAttribute(deregistrationProtection) show the state.

Allowed AMIs (Get/Enable/DisableAllowedImagesSettings, ReplaceImageCriteriaInAllowedImagesSettings)
  Per account and Region: ``disabled`` (the default), ``audit-mode`` or ``enabled``, and the image criteria. In
  audit mode and enabled DescribeImages shows ``ImageAllowed`` and honours the ``image-allowed`` filter; enabled, it
  leaves the AMIs that are not allowed out and RunInstances refuses them. The caller's own AMIs are always allowed.
  A declarative policy (DECLARATIVE_POLICY_EC2, organizations.py) that sets ``allowed_images_settings`` for the
  account overrides the account's own settings (``ManagedBy: declarative-policy``), which it can then not change.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import re

from moto.core.responses import ActionResult

from . import ec2 as ec2_patch
from .state import EC2 as STATE
from .state import EC2_LOCK as _LOCK


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _err(code, message):
    return ec2_patch._err(code, message)


def _partition(region):
    from moto.utilities.utils import get_partition

    return get_partition(region)


# ---- image references ------------------------------------------------------------------------------
# DescribeImageReferences (botocore's EC2 model: DescribeImageReferencesRequest / ResourceTypeRequest /
# ResourceTypeOption / DescribeImageReferencesResult / ImageReference) and the EC2 User Guide, "Identify your resources
# referencing specified AMIs", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-ami-references.html:
# - ImageIds: 1 to 10 ids; "Either IncludeAllResourceTypes or ResourceTypes must be specified";
# - resource types ec2:Instance | ec2:LaunchTemplate | ssm:Parameter | imagebuilder:ImageRecipe |
#   imagebuilder:ContainerRecipe (the emulator has no Image Builder: those two never find anything);
# - options, "Valid only when ResourceType is ec2:Instance or ec2:LaunchTemplate": state-name (pending | running |
#   shutting-down | terminated | stopping | stopped; default all states) and version-depth ("The number of launch
#   template versions to check, starting from the most recent version", 1 to 10000, default 10);
# - IncludeAllResourceTypes uses the default options; "When ResourceTypes and IncludeAllResourceTypes are used
#   together, the ResourceTypes option values take precedence over the defaults";
# - the answer: ImageReferences [{ImageId, ResourceType, Arn}], ARNs as in the User Guide's example output
#   (arn:aws:ec2:<region>:<account>:instance/i-..., ...:launch-template/lt-...).
# Unverified (no test pins them): the error codes of invalid requests (InvalidParameterValue / MissingParameter here),
# which SSM parameters count (here: String parameters, any data type, whose current value is the AMI id; the public
# /aws/ parameters are not the caller's), an AMI id that does not exist (no reference, no error), the order of the
# references and the NextToken format.
RESOURCE_TYPES = ("ec2:Instance", "ec2:LaunchTemplate", "ssm:Parameter", "imagebuilder:ImageRecipe", "imagebuilder:ContainerRecipe")
INSTANCE_STATES = ("pending", "running", "shutting-down", "terminated", "stopping", "stopped")
DEFAULT_VERSION_DEPTH = 10
MAX_IMAGE_IDS = 10


def _option_problem(resource_type, option):
    """Why a ResourceTypeOption is invalid for ``resource_type`` (None when it is valid)."""
    name, values = option.get("OptionName"), option.get("OptionValues") or []
    if resource_type == "ec2:Instance" and name == "state-name":
        bad = [v for v in values if v not in INSTANCE_STATES]
        if values and not bad:
            return None
        return "Value (%s) for parameter state-name is invalid. Valid values: %s" % (",".join(bad), " | ".join(INSTANCE_STATES))
    if resource_type == "ec2:LaunchTemplate" and name == "version-depth":
        if len(values) == 1 and re.match(r"^[0-9]{1,5}\Z", str(values[0])) and 1 <= int(values[0]) <= 10000:
            return None
        return "Value (%s) for parameter version-depth is invalid. It must be an integer between 1 and 10000." % ",".join(map(str, values))
    return "The option %s is not valid for the resource type %s." % (name, resource_type)


def reference_scopes(include_all, resource_types):
    """{resource type: {"state-name": set, "version-depth": int}} to scan, or raises for an invalid request."""
    scopes = {t: {} for t in RESOURCE_TYPES} if include_all else {}
    problem = None
    for request in resource_types or []:
        rtype = request.get("ResourceType")
        if rtype not in RESOURCE_TYPES:
            problem = problem or "Value (%s) for parameter ResourceType is invalid." % rtype
            continue
        options = {}
        for option in request.get("ResourceTypeOptions") or []:
            problem = problem or _option_problem(rtype, option)
            if option.get("OptionName") == "state-name":
                options["state-name"] = set(option.get("OptionValues") or [])
            elif option.get("OptionName") == "version-depth" and str((option.get("OptionValues") or [""])[0]).isdigit():
                options["version-depth"] = int(option["OptionValues"][0])
        scopes[rtype] = options
    if not scopes and problem is None:
        problem = "Either IncludeAllResourceTypes or ResourceTypes must be specified."
    if problem:
        raise _err("InvalidParameterValue", problem)
    return scopes


def _instance_arn(backend, instance_id):
    return "arn:%s:ec2:%s:%s:instance/%s" % (_partition(backend.region_name), backend.region_name, backend.account_id, instance_id)


def _launch_template_arn(backend, template_id):
    return "arn:%s:ec2:%s:%s:launch-template/%s" % (_partition(backend.region_name), backend.region_name, backend.account_id, template_id)


def _ssm_references(backend, wanted):
    """[(image id, parameter ARN)] of the caller's String SSM parameters whose current value is one of ``wanted``."""
    from moto.ssm.models import ssm_backends
    from moto.ssm.utils import parameter_arn

    from . import ssm as ssm_patch

    ssm = ssm_backends[backend.account_id][backend.region_name]
    ssm_patch.settle(ssm)  # a validation of an aws:ec2:image value whose time has come counts
    out = []
    for name, versions in sorted(dict.items(ssm._parameters)):
        if not versions or name.startswith("/aws/"):
            continue
        current = versions[-1]
        if current.parameter_type == "String" and current.value in wanted:
            out.append((current.value, parameter_arn(backend.account_id, backend.region_name, current.name)))
    return out


def image_references(backend, image_ids, scopes):
    """[{ImageId, ResourceType, Arn}] of the caller's resources that reference ``image_ids``, per ``scopes``."""
    wanted = list(dict.fromkeys(image_ids))
    found = []
    if "ec2:Instance" in scopes:
        states = scopes["ec2:Instance"].get("state-name") or set(INSTANCE_STATES)
        for instance in backend.all_instances():
            if instance.image_id in wanted and instance.state in states:
                found.append((instance.image_id, "ec2:Instance", _instance_arn(backend, instance.id)))
    if "ec2:LaunchTemplate" in scopes:
        depth = scopes["ec2:LaunchTemplate"].get("version-depth") or DEFAULT_VERSION_DEPTH
        for template in list(backend.launch_templates.values()):
            recent = {version.image_id for version in template.versions[-depth:]}
            for image_id in wanted:
                if image_id in recent:
                    found.append((image_id, "ec2:LaunchTemplate", _launch_template_arn(backend, template.id)))
    if "ssm:Parameter" in scopes:
        found += [(image_id, "ssm:Parameter", arn) for image_id, arn in _ssm_references(backend, wanted)]
    found.sort(key=lambda r: (wanted.index(r[0]), RESOURCE_TYPES.index(r[1]), r[2]))
    return [{"ImageId": i, "ResourceType": t, "Arn": a} for i, t, a in found]


def _page(items, max_results, next_token):
    """(page, NextToken or None): ``next_token`` is the offset of the page, base64-encoded."""
    start = 0
    if next_token:
        try:
            start = int(base64.b64decode(next_token.encode(), validate=True).decode())
        except ValueError:
            start = -1
        if not 0 <= start <= len(items):
            raise _err("InvalidParameterValue", "The NextToken value %s is invalid." % next_token)
    end = len(items) if not max_results else start + int(max_results)
    token = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


# ---- deregistration protection -------------------------------------------------------------------------
# EC2 User Guide, "Protect an Amazon EC2 AMI from deregistration",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deregistration-protection.html: "When you turn on
# deregistration protection, the AMI can't be deregistered by any user, regardless of their IAM permissions"; "you
# have the option to include a 24-hour cooldown period. This cooldown period is the time during which deregistration
# protection remains in effect after you turn it off"; "Deregistration protection is turned off by default on all
# existing and new AMIs". EnableImageDeregistrationProtection WithCooldown: "If true, enforces deregistration
# protection for 24 hours after deregistration protection is disabled" (botocore's EC2 model). The Return values
# "enabled-without-cooldown" and "disabled" are the AWS CLI reference's examples (enable- /
# disable-image-deregistration-protection); "enabled-with-cooldown" and DescribeImages' DeregistrationProtection
# "disabled" for an AMI that never had it are quoted in public output (Terraform's aws_ec2_image_deregistration_protection
# documentation; describe-images output in public repositories).
# Unverified (no test pins them): the error code of DeregisterImage refused by the protection (OperationNotPermitted
# here; AWS documents none), the value DescribeImages shows during the cooldown after the protection was turned off
# ("disabled" here), a non-owner's Enable/Disable (AuthFailure, as for the other image attributes).
COOLDOWN = datetime.timedelta(hours=24)
WITH_COOLDOWN = "enabled-with-cooldown"
WITHOUT_COOLDOWN = "enabled-without-cooldown"
UNPROTECTED = "disabled"


def _protection(ami):
    return ami.__dict__.get("_orgshare_protection") or {"enabled": False, "cooldown": False, "until": None}


def protection_state(ami):
    """DeregistrationProtection as DescribeImages shows it."""
    found = _protection(ami)
    if not found["enabled"]:
        return UNPROTECTED
    return WITH_COOLDOWN if found["cooldown"] else WITHOUT_COOLDOWN


def set_protection(ami, enabled, with_cooldown=False, now=None):
    """Turn the protection on (``with_cooldown``: 24 hours of protection after it is turned off) or off."""
    before = _protection(ami)
    if enabled:
        ami.__dict__["_orgshare_protection"] = {"enabled": True, "cooldown": bool(with_cooldown), "until": None}
    else:
        until = (now or _now()) + COOLDOWN if before["enabled"] and before["cooldown"] else before["until"]
        ami.__dict__["_orgshare_protection"] = {"enabled": False, "cooldown": False, "until": until}
    return protection_state(ami)


def deregistration_blocked(ami, now=None):
    """Whether the protection (or its cooldown) forbids deregistering ``ami`` now."""
    found = _protection(ami)
    return found["enabled"] or (found["until"] is not None and (now or _now()) < found["until"])


# ---- Allowed AMIs ----------------------------------------------------------------------------------------
# EC2 User Guide, "Control the discovery and use of AMIs in Amazon EC2 with Allowed AMIs",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-allowed-amis.html, and "Manage the settings for Allowed AMIs",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/manage-settings-allowed-amis.html ("These settings are per
# Region per account"); botocore's EC2 model (GetAllowedImagesSettingsResult, EnableAllowedImagesSettingsRequest /
# Result, DisableAllowedImagesSettingsResult, ImageCriterionRequest, ImageCriterion, ReplaceImageCriteria...Result):
# - states disabled ("All AMIs are allowed"), audit-mode ("All AMIs are allowed, but the ImageAllowed field is set to
#   true if the AMI would be allowed"), enabled ("Only AMIs matching the image criteria are discoverable and
#   available for use"; "Instances can only be launched using allowed AMIs");
# - "The Allowed AMIs feature does not restrict the AMIs owned by your account";
# - DescribeImages: "When Allowed AMIs is set to enabled, only allowed images are returned in the results, with the
#   imageAllowed field set to true for each image. In audit-mode, the imageAllowed field is set to true for images that
#   meet the account's Allowed AMIs criteria, and false for images that don't"; filter image-allowed;
# - evaluation: values within ImageProviders / ImageNames / MarketplaceProductCodes OR, the parameters of one
#   ImageCriterion AND, the ImageCriterion of ImageCriteria OR; ImageProviders amazon | aws-marketplace |
#   aws-backup-vault | 12-digit account ids | none ("Allow AMIs created by your own account only. When none is
#   specified, no other values can be specified"); ImageNames with ? and * wildcards; CreationDateCondition
#   MaximumDaysSinceCreated; DeprecationTimeCondition MaximumDaysSinceDeprecated ("When set to 0, no deprecated images
#   are allowed"); limits: 10 ImageCriterion, 200 ImageProviders, 50 ImageNames, 50 MarketplaceProductCodes, 50
#   ImageWatermarks; "AMIs that Amazon Inspector has not scanned are not allowed when you specify" ScanResultCondition
#   (the emulator scans nothing), and an AMI is allowed by ImageWatermarks only "if it carries at least one watermark"
#   (the emulator's AMIs carry none);
# - ManagedBy account | declarative-policy ("managed by a declarative policy and can't be modified by the account");
#   AWS Organizations User Guide, "Declarative policy syntax and examples": with allowed_images_settings in a
#   declarative policy "you cannot use the following operations": EnableAllowedImagesSettings,
#   ReplaceImageCriteriaInAllowedImagesSettings, DisableAllowedImagesSettings.
# Unverified (no test pins them): the error codes (InvalidParameterValue for invalid criteria or state,
# OperationNotPermitted for a setting managed by a declarative policy, InvalidAMIID.NotFound for RunInstances with an
# AMI that is not allowed), ImageAllowed of the caller's own AMIs in audit mode (true, as when enabled: "only allowed
# images are returned ... with the imageAllowed field set to true"), ImageAllowed absent while disabled, DescribeImages
# leaving out, without an error, an id named in ImageIds that is not allowed, the image-allowed filter while disabled
# (it matches nothing: no AMI has an ImageAllowed then), the ImageCriteria GetAllowedImagesSettings shows while disabled
# (the last ones set), the state of an account and Region that never set one (disabled), a criterion with no
# parameter (it allows every AMI), and how a declarative policy's fields map to the API's (audit_mode -> audit-mode,
# aws_marketplace -> aws-marketplace, aws_backup_vault -> aws-backup-vault, criteria_1 ... 10 in that order).
DISABLED = "disabled"
AUDIT_MODE = "audit-mode"
ENABLED = "enabled"
ALIASES = ("amazon", "aws-marketplace", "aws-backup-vault")
ONLY_MINE = "none"
CRITERIA_LIMITS = {"ImageProviders": 200, "ImageNames": 50, "MarketplaceProductCodes": 50, "ImageWatermarks": 50}
MAX_CRITERIA = 10
# declarative policy (ec2_attributes.allowed_images_settings) -> the API's names
POLICY_STATES = {"enabled": ENABLED, "disabled": DISABLED, "audit_mode": AUDIT_MODE}
POLICY_ALIASES = {"aws_marketplace": "aws-marketplace", "aws_backup_vault": "aws-backup-vault"}


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def criteria_from_policy(image_criteria):
    """A declarative policy's image_criteria ({"criteria_1": {...}, ...}) as the API's ImageCriteria list."""
    if not isinstance(image_criteria, dict):
        return []
    out = []
    numbered = sorted(image_criteria.items(), key=lambda kv: (_int_or_none(str(kv[0]).rsplit("_", 1)[-1]) or 0, kv[0]))
    for entry in (value for _key, value in numbered):
        if not isinstance(entry, dict):
            continue
        criterion = {}
        if "allowed_image_providers" in entry:
            criterion["ImageProviders"] = [POLICY_ALIASES.get(p, p) for p in _as_list(entry["allowed_image_providers"])]
        if "image_names" in entry:
            criterion["ImageNames"] = _as_list(entry["image_names"])
        if "marketplace_product_codes" in entry:
            criterion["MarketplaceProductCodes"] = _as_list(entry["marketplace_product_codes"])
        created = entry.get("creation_date_condition")
        if isinstance(created, dict) and _int_or_none(created.get("maximum_days_since_created")) is not None:
            criterion["CreationDateCondition"] = {"MaximumDaysSinceCreated": int(created["maximum_days_since_created"])}
        deprecated = entry.get("deprecation_time_condition")
        if isinstance(deprecated, dict) and _int_or_none(deprecated.get("maximum_days_since_deprecated")) is not None:
            criterion["DeprecationTimeCondition"] = {"MaximumDaysSinceDeprecated": int(deprecated["maximum_days_since_deprecated"])}
        out.append(criterion)
    return out


def effective_settings(account_id, region):
    """{"State", "ImageCriteria" (a list, or None when never set), "ManagedBy"} in force for the account and Region."""
    from . import organizations as org_patch

    policy = org_patch.effective_policy_content(account_id, org_patch.DECLARATIVE_EC2) or {}
    attributes = policy.get("ec2_attributes") if isinstance(policy.get("ec2_attributes"), dict) else {}
    declared = attributes.get("allowed_images_settings")
    if isinstance(declared, dict) and declared.get("state") in POLICY_STATES:
        return {"State": POLICY_STATES[declared["state"]], "ImageCriteria": criteria_from_policy(declared.get("image_criteria")),
                "ManagedBy": "declarative-policy"}
    with _LOCK:
        own = dict(STATE["allowed_images"].get((account_id, region)) or {"State": DISABLED, "ImageCriteria": None})
    own["ManagedBy"] = "account"
    return own


def _created(image):
    created = getattr(image, "creation_date", None)
    if isinstance(created, datetime.datetime):
        return created if created.tzinfo else created.replace(tzinfo=datetime.timezone.utc)
    try:
        return datetime.datetime.strptime(str(created)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def _deprecated_at(image):
    when = getattr(image, "deprecation_time", None)
    if not when:
        return None
    return datetime.datetime.strptime(when, ec2_patch.DEPRECATION_FORMAT).replace(tzinfo=datetime.timezone.utc)


def criterion_matches(criterion, image, now):
    """Whether another account's ``image`` meets every parameter of one ImageCriterion."""
    providers = criterion.get("ImageProviders")
    if providers is not None:
        alias = getattr(image, "owner_alias", None)
        if image.owner_id not in providers and not (alias in ALIASES and alias in providers):
            return False
    names = criterion.get("ImageNames")
    if names is not None and not any(fnmatch.fnmatchcase(image.name or "", pattern) for pattern in names):
        return False
    codes = criterion.get("MarketplaceProductCodes")
    if codes is not None and not set(codes) & set(getattr(image, "product_codes", None) or []):
        return False
    days = (criterion.get("CreationDateCondition") or {}).get("MaximumDaysSinceCreated")
    created = _created(image)
    if days is not None and (created is None or now - created > datetime.timedelta(days=int(days))):
        return False
    days = (criterion.get("DeprecationTimeCondition") or {}).get("MaximumDaysSinceDeprecated")
    deprecated = _deprecated_at(image)
    if days is not None and deprecated is not None and deprecated <= now and now - deprecated >= datetime.timedelta(days=int(days)):
        return False
    # no watermark and no Inspector scan on the emulator's AMIs: such a criterion allows none
    return not (criterion.get("ImageWatermarks") or criterion.get("ScanResultCondition"))


def image_allowed(image, account_id, settings, now=None):
    """Whether ``image`` is allowed in ``account_id`` by ``settings`` (effective_settings); own AMIs always are."""
    if image.owner_id == account_id:
        return True
    now = now or _now()
    return any(criterion_matches(c, image, now) for c in settings.get("ImageCriteria") or [])


def allowed_field(image, account_id, region):
    """ImageAllowed as ``account_id`` sees ``image`` in ``region``: None (absent) while Allowed AMIs is disabled."""
    settings = effective_settings(account_id, region)
    if settings["State"] == DISABLED:
        return None
    return image_allowed(image, account_id, settings)


def criteria_problem(criteria):
    """Why ReplaceImageCriteriaInAllowedImagesSettings' ImageCriteria are invalid (None when they are valid)."""
    if len(criteria) > MAX_CRITERIA:
        return "The ImageCriteria can include up to %d ImageCriterion (%d given)." % (MAX_CRITERIA, len(criteria))
    for criterion in criteria:
        for key, limit in CRITERIA_LIMITS.items():
            if len(criterion.get(key) or []) > limit:
                return "An ImageCriterion can include up to %d values for %s." % (limit, key)
        providers = criterion.get("ImageProviders") or []
        bad = [p for p in providers if p not in ALIASES + (ONLY_MINE,) and not ec2_patch.ACCOUNT_RE.match(str(p))]
        if bad:
            return "Value (%s) for parameter ImageProviders is invalid." % ",".join(map(str, bad))
        if ONLY_MINE in providers and len(criteria) + len(providers) > 2:
            return "When none is specified in ImageProviders, no other values or criteria can be specified."
        names = [n for n in criterion.get("ImageNames") or [] if not 1 <= len(n) <= 128]
        codes = [c for c in criterion.get("MarketplaceProductCodes") or [] if not re.match(r"^[A-Za-z0-9]{1,25}\Z", c)]
        if names or codes:
            return "Value (%s) for parameter %s is invalid." % (",".join(names or codes), "ImageNames" if names else "MarketplaceProductCodes")
    return None


def _stored_criteria(criteria):
    """ImageCriteria as GetAllowedImagesSettings answers them (the model's ImageCriterion members only)."""
    keys = ("ImageProviders", "MarketplaceProductCodes", "ImageNames", "DeprecationTimeCondition", "CreationDateCondition",
            "ImageWatermarks", "ScanResultCondition")
    return [{k: c[k] for k in keys if c.get(k) is not None} for c in criteria]


def set_account_settings(account_id, region, state=None, criteria=None):
    with _LOCK:
        current = dict(STATE["allowed_images"].get((account_id, region)) or {"State": DISABLED, "ImageCriteria": None})
        if state is not None:
            current["State"] = state
        if criteria is not None:
            current["ImageCriteria"] = criteria
        STATE["allowed_images"][(account_id, region)] = current


def check_account_managed(backend):
    """Refuse changing settings a declarative policy manages."""
    if effective_settings(backend.account_id, backend.region_name)["ManagedBy"] != "account":
        raise _err("OperationNotPermitted",
                   "The Allowed AMIs settings of this account are managed by a declarative policy and can't be modified by the account.")


# ---- the patches ------------------------------------------------------------------------------------------
def apply():  # noqa: C901 - one place that lists every patch of this module
    from moto.ec2.models.amis import Ami, AmiBackend
    from moto.ec2.models.instances import InstanceBackend
    from moto.ec2.responses.amis import AmisResponse

    # Deregistration protection.
    Ami.deregistration_protection = property(protection_state)

    def enable_image_deregistration_protection(self):
        self.error_on_dryrun()
        ami = ec2_patch.owned_image(self.ec2_backend, self._get_param("ImageId"))
        return ActionResult({"Return": set_protection(ami, True, bool(ec2_patch._as_bool(self._get_param("WithCooldown"))))})

    def disable_image_deregistration_protection(self):
        self.error_on_dryrun()
        ami = ec2_patch.owned_image(self.ec2_backend, self._get_param("ImageId"))
        return ActionResult({"Return": set_protection(ami, False)})

    AmisResponse.enable_image_deregistration_protection = enable_image_deregistration_protection
    AmisResponse.disable_image_deregistration_protection = disable_image_deregistration_protection

    orig_deregister = AmiBackend.deregister_image

    def deregister_image(self, ami_id):
        ami = self.amis.get(ami_id)
        if ami is not None and deregistration_blocked(ami):
            raise _err("OperationNotPermitted",
                       "The image %s has deregistration protection enabled (or in its cooldown period) and can't be deregistered." % ami_id)
        return orig_deregister(self, ami_id)

    AmiBackend.deregister_image = deregister_image

    orig_describe_attr = AmisResponse.describe_image_attribute

    def describe_image_attribute(self):
        if self._get_param("Attribute") != "deregistrationProtection":
            return orig_describe_attr(self)
        self.error_on_dryrun()
        ami = ec2_patch.owned_image(self.ec2_backend, self._get_param("ImageId"))
        return ActionResult({"ImageId": ami.id, "DeregistrationProtection": {"Value": protection_state(ami)}})

    AmisResponse.describe_image_attribute = describe_image_attribute

    # Image references.
    def describe_image_references(self):
        image_ids = self._get_param("ImageIds", []) or []
        scopes = reference_scopes(ec2_patch._as_bool(self._get_param("IncludeAllResourceTypes")), self._get_param("ResourceTypes", []))
        malformed = [i for i in image_ids if not str(i).startswith("ami-")]
        if malformed or not 1 <= len(image_ids) <= MAX_IMAGE_IDS:
            raise _err("InvalidParameterValue", "ImageIds must name 1 to %d AMI ids (ami-...): %s" % (MAX_IMAGE_IDS, ",".join(map(str, image_ids))))
        self.error_on_dryrun()
        refs, token = _page(image_references(self.ec2_backend, image_ids, scopes), self._get_param("MaxResults"), self._get_param("NextToken"))
        result = {"ImageReferences": refs}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    AmisResponse.describe_image_references = describe_image_references

    # Allowed AMIs: the settings.
    def get_allowed_images_settings(self):
        self.error_on_dryrun()
        settings = effective_settings(self.ec2_backend.account_id, self.ec2_backend.region_name)
        result = {"State": settings["State"], "ManagedBy": settings["ManagedBy"]}
        if settings.get("ImageCriteria") is not None:
            result["ImageCriteria"] = settings["ImageCriteria"]
        return ActionResult(result)

    def enable_allowed_images_settings(self):
        state = self._get_param("AllowedImagesSettingsState")
        self.error_on_dryrun()
        if state not in (ENABLED, AUDIT_MODE):
            raise _err("InvalidParameterValue", "Value (%s) for parameter AllowedImagesSettingsState is invalid. Valid values: enabled | audit-mode" % state)
        check_account_managed(self.ec2_backend)
        set_account_settings(self.ec2_backend.account_id, self.ec2_backend.region_name, state=state)
        return ActionResult({"AllowedImagesSettingsState": state})

    def disable_allowed_images_settings(self):
        self.error_on_dryrun()
        check_account_managed(self.ec2_backend)
        set_account_settings(self.ec2_backend.account_id, self.ec2_backend.region_name, state=DISABLED)
        return ActionResult({"AllowedImagesSettingsState": DISABLED})

    def replace_image_criteria_in_allowed_images_settings(self):
        criteria = self._get_param("ImageCriteria", []) or []
        self.error_on_dryrun()
        problem = criteria_problem(criteria)
        if problem:
            raise _err("InvalidParameterValue", problem)
        check_account_managed(self.ec2_backend)
        set_account_settings(self.ec2_backend.account_id, self.ec2_backend.region_name, criteria=_stored_criteria(criteria))
        return ActionResult({"ReturnValue": True})

    AmisResponse.get_allowed_images_settings = get_allowed_images_settings
    AmisResponse.enable_allowed_images_settings = enable_allowed_images_settings
    AmisResponse.disable_allowed_images_settings = disable_allowed_images_settings
    AmisResponse.replace_image_criteria_in_allowed_images_settings = replace_image_criteria_in_allowed_images_settings

    # Allowed AMIs: ImageAllowed and the image-allowed filter, as the viewing account sees each AMI (the owner's own
    # Ami objects are viewed by the account whose backend holds them; another account's through ec2.SharedImage).
    Ami.image_allowed = property(lambda self: allowed_field(self, self.ec2_backend.account_id, self.ec2_backend.region_name))
    ec2_patch.SharedImage.image_allowed = property(lambda self: allowed_field(self._ami, self._viewer.account_id, self._viewer.region_name))

    # (moto's own fallback reads the image_allowed attribute too, but answers "filter not implemented" while it is None)
    orig_ami_filter = Ami.get_filter_value

    def ami_filter(self, filter_name, method_name=None):
        if filter_name == "image-allowed":
            return self.image_allowed
        return orig_ami_filter(self, filter_name, method_name)

    Ami.get_filter_value = ami_filter

    orig_shared_filter = ec2_patch.SharedImage.get_filter_value

    def shared_filter(self, filter_name, method_name=None):
        if filter_name == "image-allowed":
            return self.image_allowed
        return orig_shared_filter(self, filter_name, method_name)

    ec2_patch.SharedImage.get_filter_value = shared_filter

    orig_describe_images = AmisResponse.describe_images

    def describe_images(self):
        """Allowed AMIs enabled: the AMIs that are not allowed are not discoverable."""
        answer = orig_describe_images(self)
        backend = self.ec2_backend
        settings = effective_settings(backend.account_id, backend.region_name)
        if settings["State"] != ENABLED:
            return answer
        now = _now()
        return ActionResult({"Images": [i for i in answer.result["Images"] if image_allowed(i, backend.account_id, settings, now)]})

    AmisResponse.describe_images = describe_images

    orig_run_instances = InstanceBackend.run_instances

    def run_instances(self, image_id, count, user_data, security_group_names, **kwargs):
        """Allowed AMIs enabled: "Instances can only be launched using allowed AMIs"."""
        wanted = image_id or (self._get_template_from_args(kwargs["launch_template"]).image_id if kwargs.get("launch_template") else None)
        settings = effective_settings(self.account_id, self.region_name)
        if wanted and settings["State"] == ENABLED:
            try:
                images = ec2_patch.describe_images(self, ami_ids=[wanted])
            except Exception:  # noqa: BLE001 - moto's InvalidAMIID.NotFound / Malformed: moto decides
                images = []
            if any(not image_allowed(i, self.account_id, settings) for i in images if i.id == wanted):
                raise _err("InvalidAMIID.NotFound",
                           "The image id '[%s]' does not exist (it is not allowed by the Allowed AMIs settings of this account)." % wanted)
        return orig_run_instances(self, image_id, count, user_data, security_group_names, **kwargs)

    InstanceBackend.run_instances = run_instances
