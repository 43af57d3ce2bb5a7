"""Python client of the ReproGrid coordinator (issue 14).

    from reprogrid import Client
    client = Client()                      # REPRO_COORDINATOR and REPRO_KEY
    study = client.submit("study.yaml")
    study.wait()
    study.report()
"""

from .client import Client
from .errors import ProblemError, ReproGridError
from .study import Study

__all__ = ["Client", "Study", "ProblemError", "ReproGridError"]
__version__ = "0.1.0"
