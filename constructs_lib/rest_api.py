"""RestApiEndpoint: a REST API whose every route is authorized, validated, logged and traced."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, cast

from aws_cdk import Aws, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import defaults
from ._acknowledge import AWS_SOLUTIONS, acknowledge
from ._endpoint import (
    SHARED_ATTRIBUTES_DOC,
    SHARED_PROPS_DOC,
    ApiEndpoint,
    cors_allowed_headers,
    cors_allowed_methods,
)
from ._logs import owned_log_group
from ._routes import Route
from ._validation import check_non_empty_string, fail
from .role import LeastPrivilegeRole

if TYPE_CHECKING:
    from aws_cdk import aws_wafv2 as wafv2

    from ._alarms import AlarmOptions
    from .function import LambdaFunction

#: API Gateway stage names: letters, digits, hyphens and underscores, at most 128.
_STAGE_NAME_PATTERN = r"[A-Za-z0-9_-]{1,128}"

#: The construct id of the account logging role and setting, one per stack (see
#: ``create_account_logging_role``).
_ACCOUNT_LOGGING_ID = "ApiGatewayAccountLogging"

#: What API Gateway does with CloudWatch Logs through the account role: it creates the log
#: group and streams if missing, looks them up, and writes events. It never reads events
#: back, so the read actions of the AWS managed policy (GetLogEvents, FilterLogEvents) are
#: left out.
_LOG_WRITE_ACTIONS: Final = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)


class RestApiEndpoint(ApiEndpoint):
    """An API Gateway REST API that routes ``"METHOD /path"`` keys to Lambda functions.

    Every route is a Lambda proxy integration whose invoke permission names that route's
    stage, method and path (no permission for the console's test invoke). The one stage is
    REGIONAL, throttled, traced with X-Ray, logs execution at INFO without request or
    response bodies, emits CloudWatch metrics and writes JSON access logs to a log group this
    construct owns. A request validator checks the body and the declared path parameters of
    every method.

    Parameters
    ----------
    The props shared with :class:`~constructs_lib.http_api.HttpApiEndpoint` (listed below),
    where ``authorizer`` is a Cognito user pool, token or request authorizer
    (``aws_apigateway``); the method's authorization type is taken from it. CORS preflights
    are unauthenticated ``OPTIONS`` mock methods on every route's resource; the functions
    add the CORS headers of actual responses themselves. And:

    execution_log_retention:
        Retention of the execution log group ``API-Gateway-Execution-Logs_<api-id>/<stage>``,
        which this construct creates (otherwise API Gateway would create it with no
        retention). Default: one month.
    stage_name:
        Letters, digits, ``-`` and ``_``. Default: ``"prod"``.
    create_account_logging_role:
        API Gateway writes REST API logs through one IAM role per account and region, set
        by ``AWS::ApiGateway::Account``. When ``True``, a role assumed by
        ``apigateway.amazonaws.com`` is created with no AWS managed policy, allowed to write
        only to the log groups of the REST API endpoints of this stack, and the account
        setting points at it; every stage depends on that setting. It is created once per
        stack and shared by that stack's endpoints. Because the setting is per account and
        region and the last deployment wins, set ``False`` when the account already has a
        logging role (e.g. one created by a platform team or by another stack), and give
        that role write access to this construct's log groups. Default: ``True``.
    web_acl_arn:
        ARN of a regional AWS WAF web ACL to associate with the stage. Default: none (the
        missing WAF is acknowledged on the stage, naming the compensating controls).

    Attributes
    ----------
    The attributes shared with :class:`~constructs_lib.http_api.HttpApiEndpoint` (listed
    below): ``api`` is an ``aws_apigateway.RestApi``, ``stage`` an ``aws_apigateway.Stage``,
    ``url`` ``https://<id>.execute-api.<region>.amazonaws.com/prod/``, ``routes`` values
    ``aws_apigateway.Method``. And:

    execution_log_group: ``aws_logs.LogGroup``
    request_validator: ``aws_apigateway.RequestValidator``
    account_logging_role: :class:`LeastPrivilegeRole` or None
    account: ``aws_apigateway.CfnAccount`` or None
    web_acl_association: ``aws_wafv2.CfnWebACLAssociation`` or None
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Mapping[str, lambda_.IFunction | LambdaFunction],
        authorizer: apigateway.IAuthorizer | None = None,
        authorization_scopes: Sequence[str] | None = None,
        public: bool = False,
        public_reason: str | None = None,
        throttling_rate_limit: int = defaults.API_THROTTLING_RATE_LIMIT,
        throttling_burst_limit: int = defaults.API_THROTTLING_BURST_LIMIT,
        cors_allowed_origins: Sequence[str] | None = None,
        access_log_retention: logs.RetentionDays | None = None,
        description: str | None = None,
        alarms: AlarmOptions | None = None,
        execution_log_retention: logs.RetentionDays | None = None,
        stage_name: str = defaults.REST_API_STAGE_NAME,
        create_account_logging_role: bool = True,
        web_acl_arn: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            routes=routes,
            authorizer=authorizer,
            authorization_scopes=authorization_scopes,
            public=public,
            public_reason=public_reason,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cors_allowed_origins=cors_allowed_origins,
            access_log_retention=access_log_retention,
            alarms=alarms,
        )

        # validate
        self._check_stage_name(stage_name)
        if web_acl_arn is not None:
            check_non_empty_string(self, "web_acl_arn", web_acl_arn)

        # build
        self.api = self._rest_api(
            description, stage_name, throttling_rate_limit, throttling_burst_limit
        )
        self.stage: apigateway.Stage = self.api.deployment_stage
        self.url: str = self.api.url
        self.execution_log_group = self._execution_log_group(stage_name, execution_log_retention)
        self.request_validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )

        # wire
        authorization = apigateway.MethodOptions(
            authorization_type=self._authorization_type(authorizer, public),
            authorizer=authorizer,
            authorization_scopes=list(authorization_scopes) if authorization_scopes else None,
            request_validator=self.request_validator,
        )
        for route in self._parsed_routes:
            self.routes[route.key] = self._add_route(route, authorization, public_reason)
        if cors_allowed_origins is not None:
            self._add_cors_preflights(list(cors_allowed_origins))
        self.web_acl_association = self._protect_stage(
            web_acl_arn, public, public_reason, throttling_rate_limit, throttling_burst_limit
        )

        # grant: API Gateway's account role writes to this API's two log groups only
        self._set_up_account_logging(create_account_logging_role)

        # expose
        self._add_alarms()

    @property
    def methods(self) -> dict[str, apigateway.Method]:
        """Deprecated: the same dict as :attr:`routes`."""
        return self._deprecated_routes("methods")

    def _rest_api(
        self, description: str | None, stage_name: str, rate_limit: int, burst_limit: int
    ) -> apigateway.RestApi:
        return apigateway.RestApi(
            self,
            "Api",
            description=description,
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # The AWS managed-policy role aws-cdk would create is replaced by a scoped one.
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.INFO,
                # Request and response bodies can hold personal data and secrets.
                data_trace_enabled=False,
                metrics_enabled=True,
            ),
        )

    def _set_up_account_logging(self, create: bool) -> None:
        self.account_logging_role: LeastPrivilegeRole | None = None
        self.account: apigateway.CfnAccount | None = None
        if not create:
            return
        account_logging = _AccountLogging.of(self)
        account_logging.allow_writing_to([self.execution_log_group, self.access_log_group])
        self.account_logging_role = account_logging.role
        self.account = account_logging.account
        self.stage.node.add_dependency(account_logging.account)

    def _check_stage_name(self, stage_name: str) -> None:
        if not isinstance(stage_name, str) or not re.fullmatch(_STAGE_NAME_PATTERN, stage_name):
            raise fail(
                self,
                "stage_name",
                stage_name,
                "allowed: 1..128 letters, digits, '-' and '_'",
            )

    def _execution_log_group(
        self, stage_name: str, retention: logs.RetentionDays | None
    ) -> logs.LogGroup:
        # API Gateway writes execution logs to a group of this fixed name, creating it with
        # no retention unless it exists; creating it first, before the stage, keeps it owned.
        log_group = owned_log_group(
            self, "ExecutionLogs", retention=retention, prop="execution_log_retention"
        )
        cfn_log_group = cast(logs.CfnLogGroup, log_group.node.default_child)
        cfn_log_group.log_group_name = (
            f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{stage_name}"
        )
        self.stage.node.add_dependency(log_group)
        return log_group

    @staticmethod
    def _authorization_type(
        authorizer: apigateway.IAuthorizer | None, public: bool
    ) -> apigateway.AuthorizationType:
        if public:
            return apigateway.AuthorizationType.NONE
        if authorizer is not None:
            return authorizer.authorization_type or apigateway.AuthorizationType.CUSTOM
        return apigateway.AuthorizationType.IAM

    def _add_route(
        self, route: Route, authorization: apigateway.MethodOptions, public_reason: str | None
    ) -> apigateway.Method:
        resource = self.api.root.resource_for_path(route.path)
        method = resource.add_method(
            route.method,
            apigateway.LambdaIntegration(route.target, proxy=True, allow_test_invoke=False),
            authorization_type=authorization.authorization_type,
            authorizer=authorization.authorizer,
            authorization_scopes=authorization.authorization_scopes,
            request_validator=authorization.request_validator,
            # Declared path parameters are what the request validator checks.
            request_parameters={f"method.request.path.{name}": True for name in route.parameters}
            or None,
        )
        self._acknowledge_authorization(method, authorization, public_reason)
        return method

    @staticmethod
    def _acknowledge_authorization(
        method: apigateway.Method,
        authorization: apigateway.MethodOptions,
        public_reason: str | None,
    ) -> None:
        authorization_type = authorization.authorization_type
        if authorization_type == apigateway.AuthorizationType.NONE and public_reason:
            acknowledge(method, AWS_SOLUTIONS, "AwsSolutions-APIG4", public_reason)
            acknowledge(method, AWS_SOLUTIONS, "AwsSolutions-COG4", public_reason)
        elif authorization_type == apigateway.AuthorizationType.IAM:
            acknowledge(
                method,
                AWS_SOLUTIONS,
                "AwsSolutions-COG4",
                "This method is authorized with AWS IAM (SigV4): API Gateway verifies the "
                "caller's signature and allows the call only if the caller's IAM policies "
                "grant execute-api:Invoke on this method, so no Cognito user pool is needed. "
                "Pass a Cognito user pool authorizer as authorizer= to authorize end users "
                "with Cognito instead.",
            )
        elif authorization_type == apigateway.AuthorizationType.CUSTOM:
            authorizer = authorization.authorizer
            name = authorizer.node.path if isinstance(authorizer, Construct) else "given"
            acknowledge(
                method,
                AWS_SOLUTIONS,
                "AwsSolutions-COG4",
                f"This method is authorized by the Lambda authorizer {name}, "
                "which verifies each caller's token or request before the integration runs; "
                "that authorizer, not a Cognito user pool, is the chosen identity check.",
            )

    def _add_cors_preflights(self, origins: list[str]) -> None:
        # Browsers send preflights without credentials, so these OPTIONS methods are
        # unauthenticated mock integrations that return CORS headers and invoke nothing
        # (cdk-nag does not flag OPTIONS methods).
        methods_of: dict[str, set[str]] = {}
        for route in self._parsed_routes:
            methods_of.setdefault(route.path, set()).add(route.method)
        for path, methods in methods_of.items():
            self.api.root.resource_for_path(path).add_cors_preflight(
                allow_origins=origins,
                allow_methods=cors_allowed_methods(methods),
                allow_headers=cors_allowed_headers(),
            )

    def _protect_stage(
        self,
        web_acl_arn: str | None,
        public: bool,
        public_reason: str | None,
        rate_limit: int,
        burst_limit: int,
    ) -> wafv2.CfnWebACLAssociation | None:
        if web_acl_arn is not None:
            # Imported here: aws_wafv2 is only needed, and only paid for, when a web ACL is given.
            from aws_cdk import aws_wafv2 as wafv2

            association = wafv2.CfnWebACLAssociation(
                self,
                "WebAclAssociation",
                resource_arn=self.stage.stage_arn,
                web_acl_arn=web_acl_arn,
            )
            return association
        access = (
            f"anonymous access is intended ({public_reason}), "
            if public
            else "every method requires authorization (AWS IAM or the given authorizer), "
        )
        acknowledge(
            self.stage,
            AWS_SOLUTIONS,
            "AwsSolutions-APIG3",
            "No AWS WAF web ACL is associated by default, as a web ACL is a per-organisation "
            f"choice of rules and cost. Compensating controls: {access}the stage is throttled "
            f"to {rate_limit} requests per second with bursts of {burst_limit}, the request "
            "validator rejects requests missing declared parameters before any function runs, "
            "and every request is access-logged. To add WAF protection, pass web_acl_arn= "
            "with a regional AWS WAF web ACL.",
        )
        return None


RestApiEndpoint.__doc__ = f"{RestApiEndpoint.__doc__}{SHARED_PROPS_DOC}{SHARED_ATTRIBUTES_DOC}"


class _AccountLogging(Construct):
    """The account-level CloudWatch role of API Gateway and the setting that points at it.

    One per stack: two ``AWS::ApiGateway::Account`` resources in one stack would overwrite
    each other. Each REST API endpoint of the stack adds its own log groups to the role.
    """

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack, _ACCOUNT_LOGGING_ID)
        self.role = LeastPrivilegeRole(
            self,
            "CloudWatchRole",
            assumed_by="apigateway.amazonaws.com",
            description="Lets API Gateway write the execution and access logs of this "
            "stack's REST APIs to their CloudWatch log groups.",
        )
        # Pseudo parameters rather than the stack's environment, so that the statement, and
        # the finding acknowledged below, read the same in every environment.
        all_log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
        self.role.allow(["logs:DescribeLogGroups"], [all_log_groups])
        acknowledge(
            self.role.role,
            AWS_SOLUTIONS,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            "<AWS::AccountId>:log-group:*]",
            "Only logs:DescribeLogGroups is granted on every log group of this account and "
            "region: it is a list action that CloudWatch Logs authorizes against "
            "'log-group:*', never a single named group. It returns log group names and "
            "settings, no log events; every write action is scoped to the APIs' own log groups.",
        )
        self.account = apigateway.CfnAccount(
            self, "Account", cloud_watch_role_arn=self.role.role.role_arn
        )
        # The role's permissions exist before API Gateway starts to use it.
        self.account.node.add_dependency(self.role.role.node.find_child("DefaultPolicy"))

    @classmethod
    def of(cls, scope: Construct) -> _AccountLogging:
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(_ACCOUNT_LOGGING_ID)
        if existing is None:
            return cls(stack)
        if not isinstance(existing, cls):
            raise fail(
                scope,
                "create_account_logging_role",
                True,
                f"the id {_ACCOUNT_LOGGING_ID!r} is already used by another construct of the "
                "stack; rename it or pass create_account_logging_role=False",
            )
        return existing

    def allow_writing_to(self, log_groups: Sequence[logs.ILogGroup]) -> None:
        self.role.allow(list(_LOG_WRITE_ACTIONS), [group.log_group_arn for group in log_groups])
