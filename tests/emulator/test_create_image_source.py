"""CreateImage from an instance: the AMI names the instance's AMI as its source (SourceImageId, SourceImageRegion:
"created using CreateImage, CopyImage, or CreateRestoreImageTask", botocore's EC2 model) and the instance
(SourceInstanceId: CreateImage only); a CopyImage result has no SourceInstanceId."""

from orgshare_emulator.fixtures import make_image


def test_create_image_names_its_source_ami_and_instance(aws):
    ec2 = aws.client("ec2", "us-east-1")
    src = make_image(ec2, "base")
    instance = ec2.run_instances(ImageId=src, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    baked = ec2.create_image(InstanceId=instance, Name="baked")["ImageId"]
    image = ec2.describe_images(ImageIds=[baked])["Images"][0]
    assert (image["SourceImageId"], image["SourceImageRegion"], image["SourceInstanceId"]) == (src, "us-east-1", instance)
    found = ec2.describe_images(Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [src]}])["Images"]
    assert [i["ImageId"] for i in found] == [baked]
    copy = aws.client("ec2", "eu-west-1").copy_image(SourceImageId=src, SourceRegion="us-east-1", Name="copy")["ImageId"]
    copied = aws.client("ec2", "eu-west-1").describe_images(ImageIds=[copy])["Images"][0]
    assert copied["SourceImageId"] == src and "SourceInstanceId" not in copied
