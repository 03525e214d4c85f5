"""The one exception type that means "the user's input is wrong"."""


class InputError(ValueError):
  """Bad user input: the message names the input and what was expected.

  Command-line tools print the message on one line and exit with status 2;
  anything else that goes wrong is a bug and keeps its traceback.
  """
