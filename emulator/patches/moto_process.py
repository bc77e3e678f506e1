"""The emulator's server process: moto in server mode with this package's glue installed.

Run by ``emulator.server.start_emulator`` as ``python -m emulator.patches.moto_process``; not meant
to be started by hand. Reads its settings from the environment the parent prepares:

- ``EMULATOR_WORK_DIR``: a directory this process may write to (function code, results);
- ``EMULATOR_REGION``: the region stacks are deployed to;
- ``EMULATOR_PYTHON``: the interpreter that runs Lambda handlers;
- ``EMULATOR_PORT_FD``: a pipe to write the bound port to, once, followed by a newline.

Stops when its stdin reaches end of file (the parent closed it, or died), and then
removes the work directory itself: a parent that died cannot.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
from typing import Any

HOST = "127.0.0.1"


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stdout, format="%(asctime)s %(name)s %(message)s"
    )
    # One line per request drowns function output; errors (with tracebacks) still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Moto reads these to build URLs pointing back at itself (custom-resource response
    # URLs, Step Functions' service clients); they are set once the port is known.
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["EMULATOR_REGION"])

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from emulator.patches import glue

    moto_app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        HOST,
        0,
        glue.wrap_wsgi_app(moto_app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    port = server.server_address[1]
    glue.install(
        endpoint_url=f"http://{HOST}:{port}",
        port=port,
        region=os.environ["EMULATOR_REGION"],
        work_dir=os.environ["EMULATOR_WORK_DIR"],
        python=os.environ["EMULATOR_PYTHON"],
    )

    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="moto-server", daemon=True
    )
    serving.start()
    _report_port(port)
    print(f"emulator: moto server listening on http://{HOST}:{port}", flush=True)

    _wait_for_parent()
    server.shutdown()
    glue.shutdown()
    print("emulator: moto server stopped", flush=True)
    shutil.rmtree(os.environ["EMULATOR_WORK_DIR"], ignore_errors=True)


def _report_port(port: int) -> None:
    fd = int(os.environ["EMULATOR_PORT_FD"])
    os.write(fd, f"{port}\n".encode())
    os.close(fd)


def _wait_for_parent() -> Any:
    while sys.stdin.buffer.read(4096):
        pass


if __name__ == "__main__":
    main()
