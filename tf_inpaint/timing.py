"""Where a run's time goes: seconds per named phase, summed over its calls."""
import contextlib
import time

# The moment the package's first module loaded: close to the process's start.
STARTED = time.perf_counter()


class Stopwatch:
  """Adds up wall-clock seconds per phase (`with stopwatch.phase("search")`)."""

  def __init__(self):
    self.seconds = {}

  @contextlib.contextmanager
  def phase(self, name: str):
    start = time.perf_counter()
    try:
      yield
    finally:
      self.add(name, time.perf_counter() - start)

  def add(self, name: str, seconds: float) -> None:
    self.seconds[name] = self.seconds.get(name, 0.0) + seconds

  def rounded(self) -> dict:
    """Seconds per phase to 0.01 s, in the order the phases first ran."""
    return {name: round(value, 2) for name, value in self.seconds.items()}

  def summary(self) -> str:
    """One line: `start-up 4.1 s, search 12.0 s, ... (total 17.3 s)`."""
    parts = ", ".join(f"{name} {value:.1f} s"
                      for name, value in self.seconds.items())
    return f"{parts} (total {sum(self.seconds.values()):.1f} s)"
