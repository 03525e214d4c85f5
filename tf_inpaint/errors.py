"""Expected failures: the user's input is wrong, or a training peer died."""


class InputError(ValueError):
  """Bad user input: the message names the input and what was expected.

  Command-line tools print the message on one line and exit with status 2;
  anything else that goes wrong (but `WorkerLostError`) is a bug and
  keeps its traceback.
  """


class WorkerLostError(RuntimeError):
  """Another worker of a training cluster stopped answering.

  Not the user's input, but not a bug either: command-line tools print the
  message on one line and exit with status 1.
  """
