"""Run a CDK-synthesized stack locally: moto in server mode on 127.0.0.1, plus the glue it lacks.

``deploy_stack`` takes a cloud assembly (``cdk.out``) and does what ``cdk deploy`` does:
publish the file assets to the bootstrap bucket, then CreateStack with the synthesized
template, unchanged. The functions it creates really run (in local Python sandbox
processes), and the events between services really flow::

    from emulator import deploy_stack, http_request, start_emulator, wait_for_execution

    with start_emulator() as emulator:
        stack = deploy_stack(emulator, "cdk.out", "OrdersSample")
        http_request(emulator, "POST", stack.outputs["HttpApiUrl"] + "orders", {...})
        wait_for_execution(emulator, stack.outputs["StateMachineArn"])

Public surface: ``start_emulator`` (``launch_emulator``/``stop_emulator``), ``Emulator``,
``deploy_stack`` -> ``DeployedStack``, ``invoke_function`` -> ``FunctionResult``,
``http_request`` (optionally SigV4-signed), ``create_user_pool``, ``add_app_client``,
``create_user``, ``sign_in``, ``wait_for``, ``wait_for_execution``, ``wait_for_item``,
``read_permissions_report`` (what each role of a stack was granted, used and denied);
``python -m emulator.demo`` walks through OrdersSample. The server and all glue live in a child
process (``emulator.moto_process``, ``emulator.glue``); nothing here patches the caller's
moto.

What is emulated (moto 5.2.5 and the glue named in parentheses)
----------------------------------------------------------------
- CloudFormation CreateStack of the synthesized template, assets published as the CDK CLI
  does (``deploy``); resource types moto models are created in moto's backends.
- Lambda: Python handlers from the deployed zip, run in warm sandbox processes (one
  cold start per sandbox, module state kept between invocations, more sandboxes for
  concurrent calls) with the function's environment, ``AWS_ENDPOINT_URL`` pointing at the
  emulator and temporary credentials of its execution role; results and errors as the
  Invoke API returns them (``FunctionError: Unhandled``, ``errorType`` = exception class name,
  ``Sandbox.Timedout`` past the timeout, ``Runtime.ImportModuleError``);
  ``InvocationType=Event`` with two retries, then the ``DeadLetterConfig`` queue or topic;
  logs (START/END/REPORT) to CloudWatch Logs (the ``LoggingConfig`` group) and the server
  log (``lambda_runtime``, ``lambda_bootstrap``).
- Custom resources: properties sent as strings, as CloudFormation does; a ``FAILED``
  response or a provider that fails fails the stack at once (``custom_resources``).
- DynamoDB ``AWS::DynamoDB::Table`` (moto) and ``AWS::DynamoDB::GlobalTable`` / CDK
  ``TableV2`` (``dynamodb_global_tables``).
- DynamoDB stream -> event source mapping -> Lambda, asynchronous and in order, honouring
  ``FilterCriteria``, ``BatchSize``, ``MaximumBatchingWindowInSeconds``,
  ``MaximumRetryAttempts``, ``BisectBatchOnFunctionError``, ``ReportBatchItemFailures``
  and the on-failure SQS/SNS destination (``dynamodb_streams``).
- S3 -> EventBridge (the bucket's ``EventBridgeConfiguration``, from its template or from
  aws-cdk-lib's notifications custom resource) -> rule -> Lambda / Step Functions / SNS
  targets, with ``Input``/``InputPath``/``InputTransformer``, delivered asynchronously
  (``eventbridge_targets``); ``PutEvents`` reaches the same targets.
- Step Functions: state machines created by CloudFormation execute for real (moto's
  ``execute_state_machine`` mode, ``glue._execute_state_machines``): Lambda tasks (ARN or
  ``lambda:invoke``), ``dynamodb:updateItem``/``putItem``/``getItem``, ``sns:publish`` and
  the other integrations moto's interpreter implements call back into the emulator;
  Retry/Catch match on error names. Wait
  states, retry intervals and backoff take real time.
- S3 buckets: the template's ``NotificationConfiguration`` (EventBridge, Lambda, queue,
  topic) and versioning take effect (``s3_buckets``).
- HTTP APIs (API Gateway v2) and REST APIs (v1): created from CloudFormation (v2 models
  and the v1 stage added by ``http_api`` and ``rest_api``) and served under
  ``<endpoint>/_emulator/execute-api/<api-id>/`` (``Emulator.local_url`` maps the URLs in
  the stack outputs) through Lambda proxy integrations: route/resource matching as API
  Gateway does it, proxy events (HTTP API payload 2.0 or 1.0, REST format), responses,
  API Gateway's 403/404/500/502 answers.
- API authorization before the function runs (``authorizers``, ``execute_api_iam``): REST
  Cognito user-pool authorizers (ID token; access token with the method's scopes) and
  HTTP JWT authorizers (issuer, audience or ``client_id``, scopes) check the RS256
  signature against the pool's keys and ``exp``/``nbf``/``iat``, and answer 401
  ``Unauthorized`` as API Gateway does; the claims reach the function in
  ``requestContext.authorizer``. ``AWS_IAM`` methods and routes take a SigV4 signature
  from an IAM user's key or an assumed role's credentials, whose identity policies must
  allow ``execute-api:Invoke`` on the route's ARN (403 otherwise).
- Cognito: ``AWS::Cognito::UserPool`` and ``UserPoolClient`` become moto pools and clients:
  users, ``InitiateAuth`` (``USER_PASSWORD_AUTH``), RS256 tokens with Cognito's issuer,
  signed with a key of the pool's own (not the one moto ships) that its JWKS publishes
  (``cognito``).
- Moto's own delivery: S3 notifications straight to Lambda/SQS/SNS, SNS subscriptions
  (Lambda, SQS), SQS and Kinesis event source mappings; these run synchronously inside the
  sending request (AWS delivers them asynchronously).

- IAM and KMS permissions of the stack's roles (``iam_enforcement``, ``iam_policies``,
  ``iam_requests``): functions call with their execution role's temporary credentials
  (from the emulated STS), Step Functions' integrations with the state machine's role.
  Every call made with a role's credentials is evaluated, before moto serves it, against
  the role's inline and managed policies on the request's real resource ARN (table,
  index, stream, topic, queue, object, bucket, state machine, function and qualifier, key,
  log group and stream, event bus, parameter; ``*`` for X-Ray, CloudWatch metrics and
  calls whose resource ``iam_requests`` does not name): explicit deny, allow,
  ``Action``/``NotAction``, ``Resource``/``NotResource`` wildcards, the string, ARN and
  boolean condition operators. A call on a topic, queue, bucket or table encrypted with
  a customer-managed key also needs the KMS actions the service makes for the caller
  (SNS Publish and SQS SendMessage: ``kms:GenerateDataKey`` + ``kms:Decrypt``;
  ReceiveMessage, S3 GetObject, DynamoDB: ``kms:Decrypt``; S3 PutObject:
  ``kms:GenerateDataKey``), allowed by the key policy or, when it delegates to the
  account, by an identity policy. Denials are answered as each service answers them
  (``AccessDeniedException``, SNS ``AuthorizationError``/``KMSAccessDenied``, S3
  ``AccessDenied``...), with AWS's message naming the caller, action and resource. API
  Gateway and EventBridge invoke a function only if its ``AWS::Lambda::Permission``
  (principal and ``SourceArn``) allows it; the stream poller, on-failure destinations,
  dead-letter sends and Lambda's own log writes use the function's role. Every decision
  feeds the permissions report (``/_emulator/permissions``, ``permissions_report``).
  ``EMULATOR_IAM=off`` in the environment of ``start_emulator``'s caller turns it off.

What is not emulated
--------------------
- IAM: requests signed with any credentials other than a role's (the user driving the
  emulator, the deployment) are not checked; resource policies of queues, topics and
  buckets (placeholders, see below), permission boundaries, session policies, service
  control policies, condition operators other than the string, ARN and boolean ones,
  and the global condition keys of a request (only ``aws:SourceArn``/``aws:SourceAccount``
  of a service invoking a function are set). KMS encryption is checked, not applied.
- API Gateway Lambda authorizers (such routes refuse every request with a 500), API keys,
  resource policies, request validators, throttling, non-proxy integrations; the IAM
  policy check of ``AWS_IAM`` routes ignores conditions (fail closed), permissions
  boundaries and SCPs.
- Resource types moto has no model for (e.g. ``AWS::ApiGateway::Account``,
  ``AWS::S3::BucketPolicy``, ``AWS::SQS::QueuePolicy``, ``AWS::SNS::TopicPolicy``,
  Cognito types other than pools and clients, ``AWS::CloudWatch::Alarm``,
  ``AWS::Lambda::EventInvokeConfig``) become named placeholders with nothing behind them;
  ``DeployedStack.not_emulated`` lists them (``unsupported_resources``).
- Lambda: non-Python runtimes (so the Node.js handlers aws-cdk-lib bundles, e.g. for
  ``autoDeleteObjects`` or ``logRetention``, fail the deployment); the Python version and
  architecture (handlers run on the server's interpreter whatever ``Runtime`` and
  ``Architectures`` say); layers (the handler sees the server's virtualenv instead, so
  Powertools and boto3 are there); ``LoggingConfig.LogFormat`` (output is kept as
  printed); container images, concurrency limits, memory limits, destinations of
  asynchronous invocations, sandbox expiry (warm sandboxes live until the server stops).
- Event source mappings: ``MaximumRecordAgeInSeconds``, ``ParallelizationFactor``,
  tumbling windows, ``TRIM_HORIZON`` replay (records before the mapping).
- EventBridge target retry policies and dead-letter queues (delivery to a function is
  accepted at once, as an asynchronous invoke is); scheduled rules.
- X-Ray (the SDK is switched off in functions unless they turn it on), CloudWatch
  metrics and alarms (EMF lines stay in the logs), stack updates, change sets, rollback
  and deletion.

What is changed in the template
-------------------------------
Nothing. The template in ``cdk.out`` is what CreateStack receives (through
``TemplateURL``, from the asset bucket, like ``cdk deploy``). Stacks deploy to account
``123456789012`` and the emulator's region; a stack synthesized for an explicit other
account keeps that account in the ARNs it spells out.
"""

from emulator.deploy import DeployedStack, DeployError, deploy_stack
from emulator.flows import (
    FunctionResult,
    HttpResponse,
    add_app_client,
    create_user,
    create_user_pool,
    http_request,
    invoke_function,
    read_permissions_report,
    sign_in,
    structured_log_records,
    wait_for,
    wait_for_execution,
    wait_for_item,
)
from emulator.server import (
    Emulator,
    EmulatorStartError,
    launch_emulator,
    start_emulator,
    stop_emulator,
)

__all__ = [
    "DeployError",
    "DeployedStack",
    "Emulator",
    "EmulatorStartError",
    "FunctionResult",
    "HttpResponse",
    "add_app_client",
    "create_user",
    "create_user_pool",
    "deploy_stack",
    "http_request",
    "invoke_function",
    "launch_emulator",
    "read_permissions_report",
    "sign_in",
    "start_emulator",
    "stop_emulator",
    "structured_log_records",
    "wait_for",
    "wait_for_execution",
    "wait_for_item",
]
