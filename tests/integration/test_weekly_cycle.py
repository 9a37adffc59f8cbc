"""The README's weekly cycle (examples/weekly-cycle.yml) run as it stands against the emulator, with the account's own
values given as extra vars (the OU ARN, the endpoint): the new version is copied, shared and published in every region,
the previous versions are deprecated, the versions older than the 4 newest are retired, and the key grants stay for
the versions still shared."""

import json
import os

from orgshare_emulator.fixtures import create_key, make_image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "weekly-cycle.yml")
SOURCE = "us-east-1"
COPY_REGIONS = ("eu-west-1", "ap-southeast-2")
PARAMETER = "/golden/al2023/latest"


def test_weekly_cycle_example(aws, run_playbook):
    org = aws.client("organizations", SOURCE)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou_arn = org.create_organizational_unit(ParentId=root, Name="apps")["OrganizationalUnit"]["Arn"]
    for region in (SOURCE,) + COPY_REGIONS:
        create_key(aws.client("kms", region), description="golden " + region, alias="golden-ami")
    ec2 = aws.client("ec2", SOURCE)
    versions = []
    for n in range(1, 7):  # version 6 is the new one
        image_id = make_image(ec2, "golden-al2023-%d" % n, volumes=[{"device_name": "/dev/xvda", "size": 8, "kms_key_id": "alias/golden-ami"}])
        if n < 6:
            ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", LaunchPermission={"Add": [{"OrganizationalUnitArn": ou_arn}]})
        versions.append(image_id)
    new = versions[-1]

    extra = {"new_golden_ami": new, "ami_distribute_organizational_unit_arns": [ou_arn],
             "ami_distribute_aws_endpoint_url": aws.endpoint_url, "retire_aws_endpoint_url": aws.endpoint_url,
             "ami_distribute_wait_timeout": 120}
    proc = run_playbook(EXAMPLE, args=["-e", json.dumps(extra)])
    assert proc.returncode == 0, proc.stdout[-5000:]

    # distributed and published: each region's parameter holds that region's AMI, shared with the OU
    for region in (SOURCE,) + COPY_REGIONS:
        regional = aws.client("ec2", region)
        if region == SOURCE:
            image_id = new
        else:
            (copy,) = regional.describe_images(Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [new]}])["Images"]
            image_id = copy["ImageId"]
        perms = regional.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
        assert perms == [{"OrganizationalUnitArn": ou_arn}]
        parameter = aws.client("ssm", region).get_parameter(Name=PARAMETER)["Parameter"]
        assert (parameter["Value"], parameter["DataType"]) == (image_id, "aws:ec2:image")

    # the source region's history: 6, 5, 4, 3 stay shared; 2 and 1 are retired (no launch permission, disabled)
    images = {i["ImageId"]: i for i in ec2.describe_images(ImageIds=versions, IncludeDisabled=True)["Images"]}
    states = [images[v]["State"] for v in versions]
    assert states == ["disabled", "disabled", "available", "available", "available", "available"]
    for kept in versions[2:]:
        assert ec2.describe_image_attribute(ImageId=kept, Attribute="launchPermission")["LaunchPermissions"] == [{"OrganizationalUnitArn": ou_arn}]
    # previous versions deprecated, the one before the new one (keep_newest 1) and the new one not
    assert "DeprecationTime" not in images[new] and "DeprecationTime" not in images[versions[4]]
    assert all(images[v].get("DeprecationTime") for v in versions[:4])
    # the key still lets the OU launch the kept versions
    kms = aws.client("kms", SOURCE)
    key_arn = kms.describe_key(KeyId="alias/golden-ami")["KeyMetadata"]["Arn"]  # GetKeyPolicy takes no alias
    policy = kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    assert ou_arn.rsplit("/", 1)[1] in policy

    # a second run of the whole cycle changes nothing and writes nothing
    aws.emulator.clear_calls()
    again = run_playbook(EXAMPLE, args=["-e", json.dumps(extra)])
    assert again.returncode == 0, again.stdout[-5000:]
    assert aws.write_calls() == []
