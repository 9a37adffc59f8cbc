"""Seed data for the demo and tests (organization, OUs, accounts, keys, an encrypted AMI)."""


def seed(emulator, **kwargs):
    raise NotImplementedError("seeding is not written yet")
