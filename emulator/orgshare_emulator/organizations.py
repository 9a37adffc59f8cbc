"""Organizations: who may read the organization's structure.

AWS facts modelled here (sources: botocore's Organizations model, service-2.json, the documentation
of each operation):

- DescribeOrganizationalUnit, ListParents, ListRoots, ListChildren, ListAccounts,
  ListAccountsForParent, ListOrganizationalUnitsForParent and DescribeAccount: "You can only call
  this operation from the management account or a member account that is a delegated
  administrator." Another member account gets ``AccessDeniedException`` (an error shape of each of
  these operations in the model). moto answers such a caller "not found" (AccountNotFoundException,
  OrganizationalUnitNotFoundException, ParentNotFoundException) or an empty list, which a client
  would read as "not in the organization"; and it answers a delegated administrator from that
  account's own (empty) view, so its calls are answered here from the management account's. The message is AWS's usual one for Organizations
  (**unverified** word for word; no test pins it).
- DescribeOrganization: "You can call this operation from any account in a organization" (moto
  already answers members).
"""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError

RESTRICTED = (
    "describe_organizational_unit",
    "list_parents",
    "list_roots",
    "list_children",
    "list_accounts",
    "list_accounts_for_parent",
    "list_organizational_units_for_parent",
    "describe_account",
)
DENIED_MESSAGE = "You don't have permissions to access this resource."


def reader_account(account_id):
    """The account whose view of the organization answers ``account_id``'s RESTRICTED call: itself when it is no member
    account (the management account, or in no organization: moto's own answer then stands), the management account
    for a delegated administrator (moto would answer from the member's own empty backend), None for any other member."""
    from moto.organizations.models import organizations_backends

    link = organizations_backends.master_accounts.get(account_id)
    if link is None:
        return account_id
    management, partition = link
    backend = organizations_backends[management][partition]
    if any(admin.account.id == account_id for admin in getattr(backend, "admins", [])):
        return management
    return None


def apply():
    from moto.organizations.responses import OrganizationsResponse

    for name in RESTRICTED:
        orig = getattr(OrganizationsResponse, name)

        def method(self, _orig=orig):
            reader = reader_account(self.current_account)
            if reader is None:
                raise JsonRESTError("AccessDeniedException", DENIED_MESSAGE)
            self.current_account = reader
            return _orig(self)

        method.__name__ = name
        setattr(OrganizationsResponse, name, method)
