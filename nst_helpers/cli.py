"""The ``nst`` command: one entry point whose subcommands live in ``nst_helpers.commands``.

Each subcommand module provides ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status), and may provide ``before_tensorflow(args)``,
which checks the inputs before TensorFlow is imported (an exit status, or None). Modules are imported only when their
subcommand runs, so ``nst --help`` is fast. Errors a user can fix are printed as one
line on stderr with a non-zero exit, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from nst_helpers import __version__
from nst_helpers.course.kernel import start_tensorflow_quietly

#: The subcommands, in the order ``nst --help`` lists them; each is a module of
#: ``nst_helpers.commands`` (light to import: the work is imported when it runs).
COMMANDS = ("start", "stylize", "fetch", "release", "grade", "validate", "doctor")


def command_module(name: str):
    """The module of subcommand ``name``."""
    return importlib.import_module(f"nst_helpers.commands.{name}")


#: Subcommands that load TensorFlow in this process.
USES_TENSORFLOW = ("stylize", "grade", "validate")


class OneLineErrorParser(argparse.ArgumentParser):
    """A subcommand's parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="nst", description="Neural Style Transfer course tools.")
    parser.add_argument("--version", action="version", version=f"nst-course {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        summary = command_module(name).HELP
        subparser = subparsers.add_parser(name, help=summary, description=summary)
        subparser.set_defaults(command=name)
    return parser


def main(argv=None) -> int:
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        parser = build_parser()
        parser.parse_args(argv)  # prints help or the error for an unknown command
        parser.print_help(sys.stderr)
        return 2
    module = command_module(argv[0])
    subparser = OneLineErrorParser(prog=f"nst {argv[0]}", description=module.HELP)
    module.add_arguments(subparser)
    args = subparser.parse_args(argv[1:])
    # A command may check its inputs before TensorFlow loads (seconds saved on a typo), and
    # knows whether this process is the command's own (not a library call from Python).
    args.own_process = from_command_line and "tensorflow" not in sys.modules
    before_tensorflow = getattr(module, "before_tensorflow", None)
    if before_tensorflow is not None:
        status = before_tensorflow(args)
        if status is not None:
            return int(status)
    if argv[0] in USES_TENSORFLOW:
        start_tensorflow_quietly()
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("nst: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
