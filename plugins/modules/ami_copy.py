#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ami_copy
version_added: 0.1.0
short_description: Copy one AMI to many regions, idempotently and in parallel
description:
  - Copies an AMI into each of the given regions, unless the caller already owns a copy of it there.
  - An existing copy is found among the caller's own images (C(Owners=self)) by the C(source-image-id) and
    C(source-image-region) filters of DescribeImages, in state C(pending) or C(available); it is reported with
    I(created=false) and never copied again. The name, description, tags and key of an existing copy are not
    changed or compared; they apply to new copies only.
  - An AMI made by C(CreateImage) from an instance of the source (it also names the source as its C(SourceImageId), and
    has a C(SourceInstanceId)) is not a copy either, so a copy into the source's own region is still made.
  - A copy in state C(failed) is not a copy. The region is copied again, and the failed image's id is reported in
    RV(images[].failed_image_ids). A failed copy of the source that holds the name the new copy needs is
    deregistered first (AMI names are unique per account and region, failed images included); other failed copies
    are left alone. Nothing else is ever deregistered.
  - Every CopyImage request carries a deterministic client token (a SHA-256 over the destination region, every
    CopyImage parameter and the ids of earlier failed copies), so a retried or concurrent run cannot start a second copy.
  - All regions' copies are started (in parallel) before the module waits for any; then it waits for all of them
    together, polling DescribeImages with a growing pause until none is pending or O(wait_timeout) runs out.
    It does not use the boto3 waiter, which gives up after 10 minutes.
  - Before any copy is started in any region, every C(kms_key_id) of O(regions) whose region has no copy yet is
    described (DescribeKey, in that region, in parallel). It must exist there, be customer managed (C(KeyManager)
    C(CUSTOMER); an AWS managed key only with O(allow_aws_managed_key=true)), enabled (C(KeyState) C(Enabled)) and
    symmetric. Otherwise the module fails, in check mode too, with one message that names each bad
    C(regions[N].kms_key_id), its value, its region and what is expected, and nothing is written. The key of a
    region that already has a copy is not described.
  - The source and the KMS keys of its snapshots are reported in RV(source) (one DescribeSnapshots and one
    DescribeKey per distinct key, in O(source_region)).
  - A copy that ends C(failed) (for example because its key was disabled after the check, which AWS only notices after
    accepting the request) is reported with its region and state reason; the other regions still finish; then the
    module fails with the per-region results in RV(images). A re-run resumes, keeping what is already copied.
    A read that fails (throttled past the retries, no connection, no permission) fails the module before any write.
  - "IAM permissions: the module calls exactly ec2:CopyImage, ec2:DeregisterImage, ec2:DescribeImages,
    ec2:DescribeSnapshots and kms:DescribeKey (ec2:DeregisterImage only for a failed copy that holds the name;
    kms:DescribeKey on the keys of the source's snapshots and on each C(kms_key_id) of a region to be copied). With O(tags)
    or O(copy_tags), the caller also needs ec2:CreateTags on the new images and snapshots (AWS authorizes tagging on
    creation against it; the module makes no CreateTags call). Encrypted copies need kms:CreateGrant, kms:Decrypt,
    kms:DescribeKey, kms:GenerateDataKeyWithoutPlainText and kms:ReEncrypt* on the source and destination keys
    (used by EC2 on the caller's behalf)."
author:
  - orgshare.aws maintainers (@orgshare)
options:
  source_image_id:
    description:
      - The id of the AMI to copy.
    type: str
    required: true
  source_region:
    description:
      - The region the source AMI lives in.
    type: str
    required: true
  regions:
    description:
      - The destination regions. Each element is either a region name, or a dictionary with the keys
        C(region) (required), C(kms_key_id) and C(name).
      - C(kms_key_id) is the customer managed KMS key of that region to encrypt the copy with
        (a key id, C(alias/NAME), or a key or alias ARN of that region). Giving it makes the copy encrypted.
        It must be an enabled, symmetric, customer managed key of that region; this is checked with DescribeKey
        before any copy is started.
      - C(name) overrides O(name) for that region.
      - A region may be listed once. The source region itself may be listed (a copy in the same region);
        that copy then needs a name other than the source's.
    type: list
    elements: raw
    required: true
  name:
    description:
      - The name of each new copy. Defaults to the source AMI's name.
      - AMI names are unique per account and region. If the name is taken in a destination region by an image that
        is not a copy of the source, the module fails before copying, naming the region and the image.
    type: str
  description:
    description:
      - The description of each new copy. Defaults to the source AMI's description.
    type: str
  encrypted:
    description:
      - Whether the copies are encrypted. Not set keeps the source's encryption (a copy of an encrypted AMI is
        always encrypted; V(false) for an encrypted source is refused).
      - A C(kms_key_id) in O(regions) makes that region's copy encrypted whatever this says (V(false) with a key is refused).
    type: bool
  copy_tags:
    description:
      - Copy the source AMI's user tags to each new copy (C(CopyImageTags)).
    type: bool
    default: true
  tags:
    description:
      - Tags added to each new copy and to its snapshots (C(TagSpecifications)).
      - Tags are set when a copy is created; the tags of existing copies are left alone.
    type: dict
  wait:
    description:
      - Wait until no copy is pending. With V(false), the module returns after starting the copies
        (their RV(images[].state) is then C(pending)).
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for all copies together. The copies that are still pending then are reported,
        the module fails, and a re-run waits for them again (it does not start new copies).
    type: int
    default: 3600
  allow_aws_managed_key:
    description:
      - An encrypted copy to a region without a customer managed C(kms_key_id) of O(regions) would be encrypted with
        that region's AWS managed key C(aws/ebs), and an AMI encrypted with it cannot be shared with other accounts.
        By default the module fails before copying anything, naming those regions. V(true) allows such copies.
      - An explicit C(alias/aws/...) key counts as the AWS managed key, and so does a C(kms_key_id) that DescribeKey
        reports with C(KeyManager) C(AWS).
    type: bool
    default: false
notes:
  - Check mode is supported. It reads the source and every region, applies the same validation and guards as a real
    run, and reports with the same keys, writing nothing. A region that would be copied has I(created=true),
    I(image_id=null) and I(state=would_copy).
  - Diff mode is supported. The diff maps each region to the id of its copy before and after (C(null) before when
    there is none; C((new copy)) after in check mode).
  - Idempotent. A second run with the same options finds the copies and reports I(changed=false).
  - Throttling (C(RequestLimitExceeded)) is retried with a jittered backoff on every call.
  - The module's own O(region) option is only used to set up the AWS connection; the source is read in O(source_region)
    and each copy is made in its destination region.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Copy an AMI encrypted with a customer managed key to three regions, each with its own key
  orgshare.aws.ami_copy:
    source_image_id: ami-0123456789abcdef0
    source_region: us-east-1
    regions:
      - region: eu-west-1
        kms_key_id: alias/ami-sharing
      - region: eu-central-1
        kms_key_id: arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
      - region: ap-southeast-2
        kms_key_id: alias/ami-sharing
        name: golden-image-2024-06-apse2
    tags:
      Distribution: orgshare
  register: copies

- name: Start unencrypted copies and return at once (a later run waits for them)
  orgshare.aws.ami_copy:
    source_image_id: ami-0123456789abcdef0
    source_region: us-east-1
    regions: [eu-west-1, us-west-2]
    wait: false

- name: Show the image id of each region
  ansible.builtin.debug:
    msg: "{{ copies.images | items2dict(key_name='region', value_name='image_id') }}"
"""

RETURN = r"""
images:
  description:
    - One entry per destination region, in the order of O(regions).
    - Also returned when the module fails after starting copies.
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The destination region.
      type: str
      sample: eu-west-1
    image_id:
      description: The id of the copy; C(null) in check mode for a copy to be made, and when the copy request was refused.
      type: str
      sample: ami-0fedcba9876543210
    state:
      description:
        - The copy's state, C(pending), C(available) or C(failed).
        - C(would_copy) in check mode for a region that would be copied.
        - C(error) when the CopyImage request itself was refused (see RV(images[].state_reason)).
      type: str
      sample: available
    created:
      description: Whether this run started the copy (in check mode, whether it would).
      type: bool
      sample: true
    kms_key_id:
      description:
        - The same as RV(images[].kms_key_arn), kept for compatibility.
      type: str
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    kms_key_arn:
      description:
        - The ARN of the KMS key of the copy's (root) snapshot, from DescribeSnapshots.
        - While that is not known yet (in check mode for a copy to be made, or when the request was refused),
          the ARN of the requested C(kms_key_id) of O(regions) from DescribeKey.
        - C(null) for an unencrypted copy, and in check mode for a copy to be made without a C(kms_key_id).
      type: str
      sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    state_reason:
      description:
        - Why a copy failed or a request was refused, with C(code) and C(message) as AWS gave them (the image's
          C(StateReason); AWS documents no list of its codes for images); C(null) otherwise.
      type: dict
      sample: {"code": "Server.InternalError", "message": "Copy image failed with an internal error"}
    failed_image_ids:
      description: The ids of earlier failed copies of the source in this region (left in place, not counted as copies).
      type: list
      elements: str
      sample: []
source:
  description:
    - The source AMI and the KMS keys of its snapshots, read in O(source_region) (also in check mode).
    - Snapshots the caller cannot see (those of a source another account shared) are left out of the key lists.
  returned: when the source was read (always on success)
  type: dict
  contains:
    image_id:
      description: The id of the source AMI.
      type: str
      sample: ami-0123456789abcdef0
    region:
      description: The region of the source AMI (O(source_region)).
      type: str
      sample: us-east-1
    name:
      description: The name of the source AMI.
      type: str
      sample: golden-image-2024-06
    owner_id:
      description: The account that owns the source AMI.
      type: str
      sample: "111122223333"
    encrypted:
      description: Whether any EBS snapshot of the source is encrypted.
      type: bool
      sample: true
    kms_key_arns:
      description:
        - The ARNs of the customer managed KMS keys of the source's encrypted snapshots, sorted.
        - A key the caller may not describe (another account's) is counted here.
      type: list
      elements: str
      sample: ["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    aws_managed_kms_key_arns:
      description: The ARNs of the AWS managed KMS keys (C(aws/ebs)) of the source's encrypted snapshots, sorted.
      type: list
      elements: str
      sample: []
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import AmiCopier
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import AmiCopyError
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import failure_message
from ansible_collections.orgshare.aws.plugins.module_utils._ami_copy import validate_options
from ansible_collections.orgshare.aws.plugins.module_utils._clients import client_factory


def public(results):
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]


def make_diff(plans, results):
    before = {p["dest"].region: (p["copy"] or {}).get("ImageId") for p in plans}
    after = {r["region"]: r["image_id"] or ("(new copy)" if r["created"] else None) for r in results}
    return {"before": {"images": before}, "after": {"images": after}}


def main():
    argument_spec = dict(
        source_image_id=dict(type="str", required=True),
        source_region=dict(type="str", required=True),
        regions=dict(type="list", elements="raw", required=True),
        name=dict(type="str"),
        description=dict(type="str"),
        encrypted=dict(type="bool"),
        copy_tags=dict(type="bool", default=True),
        tags=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        allow_aws_managed_key=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    copier = None
    try:
        dests = validate_options(params)
        regions = sorted({d.region for d in dests} | {params["source_region"]})
        # One boto3 session for the clients of every region and service (module.client() makes one per client).
        factory = client_factory(module)
        clients = factory.clients("ec2", regions)
        kms_clients = factory.clients("kms", AmiCopier.kms_regions(params))
        copier = AmiCopier(clients, params, kms_clients=kms_clients)
        plans = copier.plan()
        if module.check_mode:
            results, timed_out = copier.predict(plans), False
        else:
            results, timed_out = copier.apply(plans)
    except AmiCopyError as e:
        source = {"source": copier.source_info} if copier is not None and copier.source_info else {}
        module.fail_json(msg=str(e), images=[], **source)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    for warning in copier.warnings:
        module.warn(warning)
    images = public(results)
    changed = any(r["created"] for r in images)
    extra = {"diff": make_diff(plans, images)} if module._diff else {}
    msg = failure_message(images, timed_out, params["wait_timeout"])
    if msg:
        module.fail_json(msg=msg, images=images, source=copier.source_info, changed=changed, **extra)
    module.exit_json(changed=changed, images=images, source=copier.source_info, **extra)


if __name__ == "__main__":
    main()
