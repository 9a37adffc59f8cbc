# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""The one error type for input the collection refuses (a leaf module: it imports nothing).

Every refusal (a malformed option, a principal that cannot be resolved, a key policy that cannot be
worked with, an AMI that cannot be shared or copied as asked, a refused role plan) raises a subclass
of ``OrgShareInputError``. It is a ``ValueError``, so that ``_targets.error_kind`` reports it as
``refused``, and the modules turn it into ``fail_json(msg=...)``; AWS failures stay ``AnsibleAWSError``.
"""


class OrgShareInputError(ValueError):
    """Input, or a state of AWS, that the collection refuses to act on; the message says what to change."""
