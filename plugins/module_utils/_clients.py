# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to this collection: not a public API; may change in any release.

"""boto3 clients for several services and regions from ONE boto3 session.

amazon.aws's ``module.client()`` builds a new boto3 session per client, and a new session parses the
service model again (about half a second for EC2, more on a loaded machine): for a module that needs
a client per region this costs more than all its reads. ``ClientFactory`` makes every client of a
module from one session, with the same connection options as ``module.client()``
(amazon.aws ``get_aws_connection_info`` and ``_boto3_conn``): credentials or profile, endpoint URL,
certificate validation and CA bundle, ``aws_config``, amazon.aws's user agent, placebo recording, and
the same failures (``Couldn't connect to AWS``, the missing region message).

Create clients in one thread (boto3 sessions are not thread-safe; the clients they make are).
"""

try:
    import boto3
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import enable_placebo
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

try:
    # The user agent amazon.aws's own clients send (APN/1.0 Ansible/<version> amazon.aws/<version>)
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string
except ImportError:
    _get_user_agent_string = None


class ClientFactory:
    """Makes boto3 clients from one session built from the module's connection options.

    ``config``: extra ``botocore.config.Config`` options for every client (a Config or a dict), merged
    over amazon.aws's default (the user agent) and under the module's ``aws_config`` option, in the
    order amazon.aws merges its ``config`` parameter.

    Every client's user agent ends in ``orgshare.aws/<module>`` (e.g. ``orgshare.aws/ami_copy``), so
    CloudTrail's ``userAgent`` tells which module made a call.
    """

    def __init__(self, module, config=None):
        self.module = module
        self.extra_config = config
        self._session = None
        self._region = None
        self._endpoint_url = None
        self._params = None
        self._config = None

    def _connect(self):
        """The session and connection options, made once, when the first client is asked for."""
        if self._session is not None:
            return
        region, endpoint_url, params = get_aws_connection_info(self.module)
        params = dict(params)
        profile = params.pop("profile_name", None)
        config = botocore.config.Config(user_agent=_get_user_agent_string()) if _get_user_agent_string else botocore.config.Config()
        config = _merge_config(config, {"user_agent_extra": user_agent_tag(self.module)})
        for extra in (self.extra_config, params.pop("config", None), params.pop("aws_config", None)):
            config = _merge_config(config, extra)
        try:
            session = boto3.session.Session(profile_name=profile)
        except (ValueError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Couldn't connect to AWS")
        enable_placebo(session)
        self._region, self._endpoint_url, self._params, self._config = region, endpoint_url, params, config
        self._session = session

    def client(self, service, region=None, retry_decorator=None):
        """A client of ``service`` in ``region`` (default: the module's region), wrapped like
        ``module.client(service, retry_decorator=...)`` when ``retry_decorator`` is given: calls then
        retry when made with ``aws_retry=True``."""
        self._connect()
        try:
            conn = self._session.client(
                service,
                config=self._config,
                region_name=region or self._region,
                endpoint_url=self._endpoint_url,
                **self._params
            )
        except botocore.exceptions.NoRegionError:
            self.module.fail_json(
                msg="The %s module requires a region and none was found in configuration, "
                "environment variables or module parameters" % self.module._name,
            )
        except (ValueError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Couldn't connect to AWS")
        return conn if retry_decorator is None else RetryingBotoClientWrapper(conn, retry_decorator)

    def clients(self, service, regions, retry_decorator=None):
        """{region: client of ``service``} for each of ``regions``."""
        return dict((region, self.client(service, region, retry_decorator=retry_decorator)) for region in regions)


def user_agent_tag(module):
    """``orgshare.aws/<module name without the collection>``, added to every client's user agent."""
    name = getattr(module, "_name", None) or "module"  # orgshare.aws.ami_copy, or ami_copy.py run directly
    if name.endswith(".py"):
        name = name[:-3]
    return "orgshare.aws/%s" % name.rsplit(".", 1)[-1]


def _merge_config(config, extra):
    if not extra:
        return config
    if not isinstance(extra, botocore.config.Config):
        extra = botocore.config.Config(**extra)
    return config.merge(extra)


def client_factory(module, config=None):
    """A ``ClientFactory`` for ``module``: use it for every client the module needs, so that they
    share one boto3 session."""
    return ClientFactory(module, config=config)


def clients_for(module, service, regions, retry_decorator=None, config=None):
    """{region: client of ``service``} for each of ``regions``, from one boto3 session."""
    return client_factory(module, config=config).clients(service, regions, retry_decorator=retry_decorator)
