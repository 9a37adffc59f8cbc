"""The local key-policy lock cannot be hijacked or blocked by another local user: the directory must be
private and this user's, the lock file is never opened through a symlink."""

import os

import pytest

from ansible_collections.orgshare.aws.plugins.module_utils import _kms

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"


def private_dir(tmp_path, name="locks"):
    d = tmp_path / name
    d.mkdir(mode=0o700)
    os.chmod(str(d), 0o700)
    return str(d)


def test_a_private_directory_of_this_user_works_and_is_created_private(tmp_path):
    directory = str(tmp_path / "new" / "locks")
    with _kms.key_lock(KEY, timeout=5, directory=directory) as path:
        assert os.path.dirname(path) == directory
    assert oct(os.stat(directory).st_mode & 0o777) == "0o700"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_a_directory_open_to_others_is_refused(tmp_path):
    directory = private_dir(tmp_path)
    os.chmod(directory, 0o777)
    with pytest.raises(_kms.KeyLockError) as e:
        with _kms.key_lock(KEY, timeout=5, directory=directory):
            pass
    assert "has mode 0777" in e.value.message and "ORGSHARE_KMS_LOCK_DIR" in e.value.message
    assert os.listdir(directory) == []


def test_a_symlinked_directory_is_refused(tmp_path):
    target = private_dir(tmp_path, "elsewhere")
    link = str(tmp_path / "locks")
    os.symlink(target, link)
    with pytest.raises(_kms.KeyLockError) as e:
        with _kms.key_lock(KEY, timeout=5, directory=link):
            pass
    assert "is not a directory" in e.value.message
    assert os.listdir(target) == []


def test_a_symlink_where_the_lock_file_goes_is_not_followed(tmp_path):
    directory = private_dir(tmp_path)
    victim = tmp_path / "victim"
    os.symlink(str(victim), _kms.lock_path(KEY, directory))
    with pytest.raises(_kms.KeyLockError) as e:
        with _kms.key_lock(KEY, timeout=5, directory=directory):
            pass
    assert "symlink" in e.value.message
    assert not victim.exists()  # nothing was created through the link


@pytest.mark.skipif(os.getuid() != 0, reason="giving a directory to another user needs root")
def test_a_directory_of_another_user_is_refused(tmp_path):
    directory = private_dir(tmp_path)
    os.chown(directory, 65534, 65534)
    with pytest.raises(_kms.KeyLockError) as e:
        with _kms.key_lock(KEY, timeout=5, directory=directory):
            pass
    assert "belongs to uid 65534" in e.value.message
