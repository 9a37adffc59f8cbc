"""DescribeImageReferences (emulator/orgshare_emulator/ami_lifecycle.py): the caller's instances, launch templates and SSM
parameters that reference AMIs.

Sources: botocore's EC2 model (DescribeImageReferencesRequest, ResourceTypeRequest, ResourceTypeOption, ImageReference);
EC2 User Guide, "Identify your resources referencing specified AMIs"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-ami-references.html): instances in every state by default,
the 10 most recent launch template versions by default, ARNs as in its example output. The error codes of invalid
requests are unverified: only the failure is asserted.
"""

import botocore.exceptions
import pytest

from emulator_helpers import raw_client
from orgshare_emulator.fixtures import make_image

ACCOUNT = "123456789012"
REGION = "us-east-1"


def refs(ec2, image_ids, **kwargs):
    if "ResourceTypes" not in kwargs:
        kwargs.setdefault("IncludeAllResourceTypes", True)
    return sorted((r["ImageId"], r["ResourceType"], r["Arn"]) for r in ec2.describe_image_references(ImageIds=image_ids, **kwargs)["ImageReferences"])


def instance_arn(instance_id):
    return "arn:aws:ec2:%s:%s:instance/%s" % (REGION, ACCOUNT, instance_id)


def template_arn(template_id):
    return "arn:aws:ec2:%s:%s:launch-template/%s" % (REGION, ACCOUNT, template_id)


def launch(ec2, image_id):
    return ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def template(ec2, name, image_id):
    return ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": image_id, "InstanceType": "t3.micro"})["LaunchTemplate"]


def new_version(ec2, template_id, image_id):
    ec2.create_launch_template_version(LaunchTemplateId=template_id, LaunchTemplateData={"ImageId": image_id, "InstanceType": "t3.micro"})


def test_instances_launch_templates_and_parameters_that_reference_the_amis(aws):
    ec2 = raw_client(aws, "ec2")
    old, new, unused = make_image(ec2, "app-1"), make_image(ec2, "app-2"), make_image(ec2, "app-3")
    i_old, i_new = launch(ec2, old), launch(ec2, new)
    lt_old = template(ec2, "web", old)["LaunchTemplateId"]
    raw_client(aws, "ssm").put_parameter(Name="/golden/app/latest", Value=new, Type="String", DataType="aws:ec2:image")
    assert refs(ec2, [old, new, unused]) == sorted([
        (old, "ec2:Instance", instance_arn(i_old)),
        (old, "ec2:LaunchTemplate", template_arn(lt_old)),
        (new, "ec2:Instance", instance_arn(i_new)),
        (new, "ssm:Parameter", "arn:aws:ssm:%s:%s:parameter/golden/app/latest" % (REGION, ACCOUNT)),
    ])
    assert refs(ec2, [unused]) == []
    # only the resource types asked for
    assert refs(ec2, [old, new], ResourceTypes=[{"ResourceType": "ec2:LaunchTemplate"}]) == [(old, "ec2:LaunchTemplate", template_arn(lt_old))]
    assert refs(ec2, [old, new], ResourceTypes=[{"ResourceType": "ssm:Parameter"}, {"ResourceType": "imagebuilder:ImageRecipe"}]) == [
        (new, "ssm:Parameter", "arn:aws:ssm:%s:%s:parameter/golden/app/latest" % (REGION, ACCOUNT))]


def test_instances_in_every_state_unless_scoped_by_state_name(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "app")
    running, stopped, gone = launch(ec2, image_id), launch(ec2, image_id), launch(ec2, image_id)
    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[gone])
    every = [(image_id, "ec2:Instance", instance_arn(i)) for i in (running, stopped, gone)]
    assert refs(ec2, [image_id]) == sorted(every)

    def scoped(*states):
        option = {"OptionName": "state-name", "OptionValues": list(states)}
        return refs(ec2, [image_id], ResourceTypes=[{"ResourceType": "ec2:Instance", "ResourceTypeOptions": [option]}])

    assert scoped("running") == [(image_id, "ec2:Instance", instance_arn(running))]
    assert scoped("running", "stopped") == sorted(every[:2])
    # the ResourceTypes options take precedence over IncludeAllResourceTypes' defaults
    option = {"OptionName": "state-name", "OptionValues": ["terminated"]}
    assert refs(ec2, [image_id], IncludeAllResourceTypes=True, ResourceTypes=[{"ResourceType": "ec2:Instance", "ResourceTypeOptions": [option]}]) == [
        (image_id, "ec2:Instance", instance_arn(gone))]


def test_launch_templates_by_their_most_recent_versions(aws):
    ec2 = raw_client(aws, "ec2")
    old, new = make_image(ec2, "app-1"), make_image(ec2, "app-2")
    lt = template(ec2, "web", old)["LaunchTemplateId"]
    for _version in range(10):
        new_version(ec2, lt, new)
    # version 1 (old) is the 11th most recent: out of the default depth (10), in with version-depth 11
    assert refs(ec2, [old, new]) == [(new, "ec2:LaunchTemplate", template_arn(lt))]

    def depth(n):
        option = {"OptionName": "version-depth", "OptionValues": [str(n)]}
        return refs(ec2, [old, new], ResourceTypes=[{"ResourceType": "ec2:LaunchTemplate", "ResourceTypeOptions": [option]}])

    assert depth(11) == sorted([(old, "ec2:LaunchTemplate", template_arn(lt)), (new, "ec2:LaunchTemplate", template_arn(lt))])
    new_version(ec2, lt, old)
    assert depth(1) == [(old, "ec2:LaunchTemplate", template_arn(lt))]


def test_pages(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "app")
    instances = sorted(launch(ec2, image_id) for _instance in range(7))
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        answer = ec2.describe_image_references(ImageIds=[image_id], ResourceTypes=[{"ResourceType": "ec2:Instance"}], MaxResults=5, **kwargs)
        pages += 1
        assert len(answer["ImageReferences"]) <= 5
        seen += [r["Arn"] for r in answer["ImageReferences"]]
        token = answer.get("NextToken")
        if not token:
            break
    assert pages == 2 and sorted(seen) == [instance_arn(i) for i in instances]
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.describe_image_references(ImageIds=[image_id], IncludeAllResourceTypes=True, MaxResults=5, NextToken="not-a-token")


@pytest.mark.parametrize("kwargs", [
    {},  # neither IncludeAllResourceTypes nor ResourceTypes
    {"IncludeAllResourceTypes": False},
    {"ResourceTypes": [{"ResourceType": "ec2:Instance", "ResourceTypeOptions": [{"OptionName": "state-name", "OptionValues": ["sleeping"]}]}]},
    {"ResourceTypes": [{"ResourceType": "ec2:LaunchTemplate", "ResourceTypeOptions": [{"OptionName": "version-depth", "OptionValues": ["0"]}]}]},
    {"ResourceTypes": [{"ResourceType": "ec2:LaunchTemplate", "ResourceTypeOptions": [{"OptionName": "version-depth", "OptionValues": ["10001"]}]}]},
    # an option of the other resource type, and an option on a type that takes none
    {"ResourceTypes": [{"ResourceType": "ec2:Instance", "ResourceTypeOptions": [{"OptionName": "version-depth", "OptionValues": ["5"]}]}]},
    {"ResourceTypes": [{"ResourceType": "ssm:Parameter", "ResourceTypeOptions": [{"OptionName": "state-name", "OptionValues": ["running"]}]}]},
], ids=["no-types", "include-all-false", "bad-state", "depth-0", "depth-10001", "option-of-other-type", "option-on-ssm"])
def test_invalid_scopes_are_refused(aws, kwargs):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "app")
    with pytest.raises(botocore.exceptions.ClientError):
        ec2.describe_image_references(ImageIds=[image_id], **kwargs)


def test_image_ids_are_1_to_10_ami_ids(aws):
    ec2 = raw_client(aws, "ec2")
    image_id = make_image(ec2, "app")
    launch(ec2, image_id)
    for bad in (["snap-12345678"], [image_id] + ["ami-%08x" % n for n in range(10)]):
        with pytest.raises(botocore.exceptions.ClientError):
            ec2.describe_image_references(ImageIds=bad, IncludeAllResourceTypes=True)
    assert len(refs(ec2, [image_id] + ["ami-%08x" % n for n in range(9)])) == 1
