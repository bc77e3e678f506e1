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
process (``emulator.patches``); nothing here patches the caller's moto.

What is emulated and what is not: ``emulator/EMULATION.md`` (the one list).

``emulator.cdk_cli`` runs the pinned CDK CLI (``cdk bootstrap``, ``cdk deploy``, ``cdk diff``,
``cdk destroy``) against a running emulator (``make deploy-local``).

Packages: ``emulator`` is the client side (``server``, ``deploy``, ``cdk_cli``, ``flows``,
``demo``), which never imports moto; ``emulator.patches`` is everything that runs inside the server
process and patches moto 5.2.5 (``glue.install`` installs it all and refuses another
moto version); ``emulator.protocol`` holds the emulator's own HTTP paths both sides use.
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
