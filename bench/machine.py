"""What every benchmark reports about the machine it ran on, and how it keeps the app's own output out of a timing."""
import contextlib
import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    return {"cores": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


@contextlib.contextmanager
def quiet_app_output():
    """The app's log lines and Powertools' EMF prints go to /dev/null while timing: formatting them still runs."""
    from chalicelib.observability import logger
    with open(os.devnull, "w") as sink:
        handler = logger.registered_handler
        previous = handler.setStream(sink)
        try:
            with contextlib.redirect_stdout(sink):
                yield
        finally:
            handler.setStream(previous)
