"""The role orgshare.aws.ami_distribute with ami_distribute_ssm_share: the source region's SSM parameter is made Advanced
and shared, through one AWS RAM resource share, with the principals the AMI is shared with; the consumer account reads it
by the ARN the result gives; a converged second run writes nothing. Two playbook runs; AWS state read back with boto3."""

import pytest

from orgshare_emulator.fixtures import credentials_for
from play_results import printed
from test_role_plan_first import SOURCE, good_vars, play, run, world  # noqa: F401  # pylint: disable=unused-import

NAME = "/golden/al2023/latest"


def test_the_parameter_is_shared_with_the_amis_principals_and_a_rerun_writes_nothing(aws, world, tmp_path):  # noqa: F811
    aws.client("ram", SOURCE).enable_sharing_with_aws_organization()  # once, by the management account (AWS RAM User Guide)
    v = good_vars(aws, world, ami_distribute_regions=[], ami_distribute_ssm_parameter=NAME, ami_distribute_ssm_share=True)
    first = run(aws, tmp_path, play(tmp_path), v)
    assert first.returncode == 0, first.stdout[-4000:]
    published = printed(first.stdout)[SOURCE]["ssm_parameter"]
    arn = "arn:aws:ssm:%s:123456789012:parameter%s" % (SOURCE, NAME)
    assert (published["name"], published["version"], published["changed"], published["arn"]) == (NAME, 1, True, arn)

    ssm, ram = aws.client("ssm", SOURCE), aws.client("ram", SOURCE)
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [NAME]}])["Parameters"][0]
    assert (meta["Tier"], ssm.get_parameter(Name=NAME)["Parameter"]["Value"]) == ("Advanced", world["image_id"])
    (share,) = ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="ACTIVE")["resourceShares"]
    assert share["resourceShareArn"] == published["resource_share"]

    def entities(kind):
        found = ram.get_resource_share_associations(associationType=kind, resourceShareArns=[share["resourceShareArn"]])
        return sorted(a["associatedEntity"] for a in found["resourceShareAssociations"])

    assert entities("PRINCIPAL") == sorted([world["ou_arn"], world["account"]])
    assert entities("RESOURCE") == [arn]
    access_key, secret_key = credentials_for(aws.emulator, world["account"])
    consumer = aws.client("ssm", SOURCE, access_key=access_key, secret_key=secret_key)
    assert consumer.get_parameter(Name=arn)["Parameter"]["Value"] == world["image_id"]

    aws.emulator.clear_calls()
    second = run(aws, tmp_path, play(tmp_path), v)
    assert second.returncode == 0, second.stdout[-4000:]
    assert aws.write_calls() == []
    assert printed(second.stdout)[SOURCE]["ssm_parameter"]["changed"] is False


@pytest.mark.parametrize("over, words", [
    ({"ami_distribute_ssm_share": True}, "ami_distribute_ssm_share: true needs ami_distribute_ssm_parameter"),
])
def test_ssm_share_without_a_parameter_is_refused_before_any_write(aws, world, tmp_path, over, words):  # noqa: F811
    aws.emulator.clear_calls()
    proc = run(aws, tmp_path, play(tmp_path), good_vars(aws, world, ami_distribute_regions=[], **over))
    assert proc.returncode != 0
    assert words in proc.stdout
    assert aws.write_calls() == []
