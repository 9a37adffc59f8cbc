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

A client per region also pays botocore's client class: ``ClientCreator._create_client_class`` builds
the class with a method per operation (about 800 for EC2) on every ``create_client``, which is most of
the 15-25 ms of CPU each EC2 client costs after the first. The class depends only on the session's
event handlers and the service model, not on the region, so ``ClientFactory`` reuses it for every
client of one service made from its session (``_share_client_classes``).

And a client's first ``get_paginator`` loads the service's paginator model through the session's
loader, whose cache (botocore ``instance_cache``) has no lock: made from N threads at once (a region
each), every one of them scans all of botocore's service directories (about 450 ``listdir`` calls
each; at 16 regions over 7,000, about a second of CPU). The factory loads that model once, in the
thread that asks for the first client of a service (``_load_paginators``), so the threads find it cached.
"""

try:
    import boto3
    import botocore
    import botocore.client
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
        self._paginators_loaded = set()

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
        _share_client_classes()
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
        if service not in self._paginators_loaded:
            self._paginators_loaded.add(service)
            _load_paginators(conn)
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


_CLIENT_CLASSES = {}


def _load_paginators(conn):
    """Load the paginator model of ``conn``'s service into its session's loader, in this thread
    (``can_paginate`` of any operation does; a service without paginators is cached as such)."""
    names = getattr(getattr(conn.meta, "service_model", None), "operation_names", None)
    if not names:
        return
    try:
        conn.can_paginate(botocore.xform_name(names[0]))
    except (KeyError, botocore.exceptions.BotoCoreError):
        pass


def _share_client_classes():
    """Make botocore build a client class once per (session's event emitter, service, API version)
    in this process, and reuse it for the clients of every region. Installed once; a botocore
    without ``ClientCreator._create_client_class`` is left as it is."""
    creator = getattr(getattr(botocore, "client", None), "ClientCreator", None)
    build = getattr(creator, "_create_client_class", None)
    if build is None or getattr(build, "_orgshare_shared", False):
        return

    def shared_client_class(self, service_name, service_model):
        emitter = getattr(self, "_event_emitter", None)
        key = (id(emitter), service_name, getattr(service_model, "api_version", None))
        cached = _CLIENT_CLASSES.get(key)
        if cached is not None and cached[0] is emitter:
            return cached[1]
        cls = build(self, service_name, service_model)
        _CLIENT_CLASSES[key] = (emitter, cls)  # the emitter is kept: its id is not reused while cached
        return cls

    shared_client_class._orgshare_shared = True
    creator._create_client_class = shared_client_class


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
