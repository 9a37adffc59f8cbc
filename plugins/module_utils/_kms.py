# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""Key ids, the per-key local lock and the read-merge-write loop for key policies.

The KMS calls themselves (DescribeKey, GetKeyPolicy, PutKeyPolicy) are in ``_api``, with their
retries and ``OrgShareKMSError``. No function takes the module.

Lost updates
------------
PutKeyPolicy replaces the whole document and has no conditional write. Two defences:

1. Writers on one controller (parallel forks, parallel playbooks: separate processes) serialise
   on the key with ``fcntl.flock`` on a lock file named after a hash of the key ARN, in
   ``$ORGSHARE_KMS_LOCK_DIR`` or ``<temp dir>/orgshare-aws-kms-locks-<uid>``. The lock is held
   from the first read to the last read-back. A waiter blocks in the kernel (no polling), so the
   next writer starts the moment the previous one is done.
2. For writers elsewhere: after writing, the policy is read back and planned again; if another
   writer changed it (our statements gone or altered), the merge is redone and written again,
   at most ``max_writes`` times.

What remains possible: a writer elsewhere that does not read-merge (a hand-written
``put-key-policy``, amazon.aws ``kms_key`` ``policy``) can still replace the document after our
read-back; nothing short of a conditional write, which KMS lacks, prevents that.
"""

import contextlib
import errno
import hashlib
import os
import re
import stat
import tempfile
import threading
import time

try:
    import fcntl
except ImportError:  # not on POSIX: no local lock (Ansible controllers are POSIX)
    fcntl = None

from ansible_collections.orgshare.aws.plugins.module_utils import _key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._api import OrgShareKMSError
from ansible_collections.orgshare.aws.plugins.module_utils._api import get_key_policy
from ansible_collections.orgshare.aws.plugins.module_utils._api import put_key_policy

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY_ID = r"(?:%s|mrk-[0-9a-f]{32})" % _UUID
_ALIAS = r"alias/[a-zA-Z0-9/_-]{1,250}"
KEY_ID_RE = re.compile(_KEY_ID)
KEY_ARN_RE = re.compile(r"arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):(?:key/%s|%s)" % (_KEY_ID, _ALIAS))
ALIAS_RE = re.compile(_ALIAS)
KEY_FORMS = (
    "a key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-...), a key ARN "
    "(arn:aws:kms:REGION:ACCOUNT:key/KEY_ID), an alias name (alias/NAME) or an alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME)"
)


class KeyLockError(OrgShareKMSError):
    """The local lock directory or file is not safe to use (another user could hijack or block the lock)."""


class KeyLockTimeout(OrgShareKMSError):
    pass


class KeyPolicyConflictError(OrgShareKMSError):
    pass


def key_id_problem(key_id, region=None, region_source=None):
    """Why ``key_id`` cannot name a key in ``region`` (None when it can).

    ``region_source``: what set ``region``, for the message (default: the module's region)."""
    if not isinstance(key_id, str) or not key_id:
        return "must be " + KEY_FORMS
    if KEY_ID_RE.fullmatch(key_id) or ALIAS_RE.fullmatch(key_id):
        if key_id.startswith("alias/aws/"):
            return None  # an AWS managed key: DescribeKey tells, and the module fails with the reason
        return None
    m = KEY_ARN_RE.fullmatch(key_id)
    if m:
        if region and m.group("region") != region:
            return "names a key in region %s, but %s (KMS keys are regional)" % (
                m.group("region"),
                "%s is %s" % (region_source, region) if region_source else "the module runs in region %s" % region,
            )
        return None
    return "is not " + KEY_FORMS


# ---- the per-key local lock ----------------------------------------------------------------------


def lock_dir():
    return os.environ.get("ORGSHARE_KMS_LOCK_DIR") or os.path.join(tempfile.gettempdir(), "orgshare-aws-kms-locks-%d" % os.getuid())


def safe_lock_dir(directory):
    """Create the lock directory private (0700) if needed, and refuse one that another user could use against us:
    a symlink, not a directory, not owned by this user, or open to the group or others."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError as e:
        raise KeyLockError(message="Cannot create the local lock directory %s: %s" % (directory, e))
    problem = None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        problem = "is not a directory (a symlink?)"
    elif info.st_uid != os.getuid():
        problem = "belongs to uid %d, not to this user (uid %d)" % (info.st_uid, os.getuid())
    elif info.st_mode & 0o077:
        problem = "has mode %04o; it must be private to this user (0700)" % stat.S_IMODE(info.st_mode)
    if problem:
        raise KeyLockError(
            message="The local lock directory %s %s, so another user could hijack or block the key-policy lock: remove it, "
            "or set ORGSHARE_KMS_LOCK_DIR to a private directory" % (directory, problem)
        )
    return directory


def lock_path(key_arn, directory=None):
    name = hashlib.sha256(key_arn.encode("utf-8")).hexdigest()[:40] + ".lock"
    return os.path.join(directory or lock_dir(), name)


def _take_flock(fd, timeout):
    """Take the exclusive flock on ``fd``; False if ``timeout`` seconds pass first.

    flock has no timeout of its own, so a helper thread makes the blocking call: the kernel hands
    the lock over the moment its holder releases it, where polling would add up to a polling
    interval per writer waiting in line. On timeout the caller closes ``fd``; should the helper
    still get the lock, it goes with the last reference to the file, when the call returns."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise
    outcome = []
    done = threading.Event()

    def take():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            outcome.append(None)
        except OSError as e:
            outcome.append(e)
        done.set()

    threading.Thread(target=take, name="orgshare-kms-key-lock", daemon=True).start()
    if not done.wait(timeout):
        return False
    if outcome[0] is not None:
        raise outcome[0]
    return True


@contextlib.contextmanager
def key_lock(key_arn, timeout=600, directory=None):
    """Hold an exclusive lock on ``key_arn`` for the processes of this host (fcntl.flock)."""
    if fcntl is None:
        yield None
        return
    path = lock_path(key_arn, directory)
    safe_lock_dir(os.path.dirname(path))
    try:
        # never follow a symlink planted where the lock file goes (it would make us create or lock another file)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as e:
        raise KeyLockError(message="Cannot open the local lock file %s for key %s: %s (a symlink there is refused)" % (path, key_arn, e))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            raise KeyLockError(
                message="The local lock file %s for key %s is not a regular file of this user (uid %d, found uid %d): remove it"
                % (path, key_arn, os.getuid(), info.st_uid)
            )
        if not _take_flock(fd, timeout):
            raise KeyLockTimeout(message="Timed out after %ss waiting for the local lock on key %s (%s)" % (timeout, key_arn, path))
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# ---- read, merge, write, read back ---------------------------------------------------------------


def _verify_sleep(seconds):
    """The pause before the verifying read (a function of its own, so that tests can act in it)."""
    time.sleep(seconds)


class KeyPolicyRefusedError(OrgShareKMSError):
    """PutKeyPolicy refused the document, with what the collection knows of why."""


def _explained(error, key_arn):
    """``error`` (PutKeyPolicy failed) with the likely cause when KMS named invalid principals; else ``error``."""
    exc = getattr(error, "exception", None)
    err = ((getattr(exc, "response", None) or {}).get("Error") or {})
    if err.get("Code") != "MalformedPolicyDocumentException" or "principal" not in (err.get("Message") or "").lower():
        return error
    return KeyPolicyRefusedError(
        message="KMS refused the policy of key %s: %s. This collection's own statements name only '*' and account roots, so "
        "the principal is in another statement of the policy: an IAM user or role that does not exist (deleted, misspelt) "
        "or is too new to be visible to KMS yet (retried for a few seconds). Fix or remove it in the key policy, then "
        "re-run" % (key_arn, err.get("Message")),
        exception=exc,
    )


def converge_key_policy(client, key_arn, planner, check_mode=False, max_writes=5, verify_delay=0, on_lost="fail", warnings=None):
    """Bring the key policy to what ``planner`` wants.

    ``planner(policy) -> (changed, new_policy, our_statements, covered)`` (the pure plan).
    Returns ``(changed, before, after, our_statements, covered)`` where ``before`` is the policy
    first read and ``after`` the policy last read back (or predicted in check mode).
    After a write, and ``verify_delay`` seconds after the lock is released, the policy is read once
    more: if another writer (one that replaces the whole document) took our statements away in the
    meantime, KeyPolicyConflictError is raised, or with ``on_lost="warn"`` a warning is appended to
    ``warnings``.
    Raises PolicyTooLargeError (before writing) or KeyPolicyConflictError."""
    if check_mode:
        before = _key_policy.load_policy(get_key_policy(client, key_arn))
        changed, after, ours, covered = planner(before)
        if changed:
            _key_policy.check_size(after)
        return changed, before, after, ours, covered

    with key_lock(key_arn):
        before = None
        writes = 0
        while True:
            current = _key_policy.load_policy(get_key_policy(client, key_arn))
            if before is None:
                before = current
            changed, after, ours, covered = planner(current)
            if not changed:
                # Converged: either nothing to do, or the read-back shows what we wrote (or a
                # document another read-merge writer built on top of it).
                result = (writes > 0, before, current, ours, covered)
                break
            if writes >= max_writes:
                raise KeyPolicyConflictError(
                    message="The policy of key %s kept changing under us: %d writes were each undone by another writer "
                    "(one that replaces the whole document without merging?)" % (key_arn, writes)
                )
            _key_policy.check_size(after)
            try:
                put_key_policy(client, key_arn, _key_policy.dump_policy(after))
            except OrgShareKMSError as e:
                raise _explained(e, key_arn)
            writes += 1
    if not result[0] or not verify_delay:
        return result
    _verify_sleep(verify_delay)
    current = _key_policy.load_policy(get_key_policy(client, key_arn))
    lost, dummy, ours, covered = planner(current)
    if not lost:
        return result
    message = (
        "This collection's statements in the policy of key %s were gone %ss after the last write: another writer replaced "
        "the whole policy without merging (a hand-written put-key-policy, amazon.aws.kms_key with policy?). Re-run once "
        "that writer is done" % (key_arn, verify_delay)
    )
    if on_lost == "warn" and warnings is not None:
        warnings.append(message)
        sids = set(s.get("Sid") for s in ours if isinstance(s, dict))
        present = [s for s in _key_policy.statements_of(current) if isinstance(s, dict) and s.get("Sid") in sids]
        return (True, result[1], current, present, covered)
    raise KeyPolicyConflictError(message=message)
