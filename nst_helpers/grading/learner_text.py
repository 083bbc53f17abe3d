"""Turn what the grading child reports into text a learner may see, and nothing more.

The child runs the learner's code, so everything it reports is under the learner's
control: an exception's message (``raise ValueError(str(A))`` would print the hidden
inputs), its class name, the type name of a returned object, the paths in a blocked
write. Feedback therefore never shows such text. It shows only:

* an exception's type when it is a built-in or TensorFlow error class (else "an
  exception of its own class"), the line of the learner's function where it was raised,
  and, for a few common cases, a fixed hint chosen by the grader;
* a returned object's type name only from a fixed list of ordinary types;
* a blocked action as one of the grader's fixed descriptions, each once.

The full messages go to the instructor's log (``.logs``), never here. This module does
not run code and does not decide scores.
"""

from __future__ import annotations

import ast
import builtins
import re

from nst_helpers.course.cells import is_blank_statement

#: TensorFlow's error classes (``tf.errors``) and the AutoGraph one, by name.
_TENSORFLOW_ERRORS = {
    "AbortedError",
    "AlreadyExistsError",
    "CancelledError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OperatorNotAllowedInGraphError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
}
_BUILTIN_ERRORS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
KNOWN_ERROR_TYPES = frozenset(_BUILTIN_ERRORS | _TENSORFLOW_ERRORS)

#: Type names of returned values that may be shown (anything else is "another type").
KNOWN_VALUE_TYPES = frozenset(
    {
        "NoneType", "bool", "int", "float", "complex", "str", "bytes", "list", "tuple",
        "dict", "set", "ndarray", "float16", "float32", "float64", "int32", "int64",
        "EagerTensor", "Tensor", "SymbolicTensor", "KerasTensor", "Variable",
        "ResourceVariable", "UninitializedVariable", "function", "generator", "module",
    }
)  # fmt: skip

NOT_IMPLEMENTED_HINT = (
    "Most likely its code is not implemented yet: replace each None between "
    "### START CODE HERE ### and ### END CODE HERE ###."
)
_NONE_VALUE_HINT = (
    "A value your code uses is None: check that every None between "
    "### START CODE HERE ### and ### END CODE HERE ### is replaced and that helpers return "
    "their result."
)
_SHAPE_HINT = (
    "Check the shapes of the tensors you combine (run the notebook's check on the public "
    "case and print their shapes)."
)
_HINTS_BY_TYPE = {
    "SystemExit": "A graded function must return its result, not end the program (sys.exit).",
    "MemoryError": "It ran out of memory.",
    "ResourceExhaustedError": "It ran out of memory.",
    "RecursionError": "It calls itself without end.",
    "OperatorNotAllowedInGraphError": (
        "Inside @tf.function, Python control flow on tensors needs AutoGraph; use tf.cond / "
        "tf.where, or remove @tf.function."
    ),
    "ZeroDivisionError": "It divides by zero.",
}
_SHAPE_WORDS = re.compile(
    r"shape|Incompatible|Dimensions must be equal|dimension|rank|size|reshape", re.IGNORECASE
)
_NAME_ERROR = re.compile(r"name '([A-Za-z_][A-Za-z_0-9]*)' is not defined")


def error_type_name(error: dict) -> str:
    name = str(error.get("type") or "")
    return name if name in KNOWN_ERROR_TYPES else ""


def value_type_name(name) -> str:
    name = str(name)
    return name if name in KNOWN_VALUE_TYPES else "value of another type"


def _function_node(source: str, name: str) -> ast.stmt | None:
    """The last top-level ``def name`` of ``source``, or ``name = lambda ...``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            found = node
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Lambda)
            and [getattr(t, "id", None) for t in node.targets] == [name]
        ):
            found = node
    return found


def _error_location(error: dict, located, name: str) -> str:
    line = error.get("line")
    program = getattr(located, "program", None)
    if not isinstance(line, int) or isinstance(line, bool) or program is None:
        return ""
    node = _function_node(program.source, name)
    where = program.where(line)
    cell = f" ({where})" if where else ""
    if node is not None and node.lineno <= line <= (node.end_lineno or node.lineno):
        return f" at line {line - node.lineno + 1} of your {name}{cell}"
    if where:
        return f" in code your {name} uses{cell}"
    return ""


def is_none_error(error: dict) -> bool:
    """Whether an error looks like an operation on None (a template's placeholder)."""
    return "NoneType" in str(error.get("message", "")) or error.get("type") == "NoneType"


_NOTEBOOK_LAYERS_HINT = (
    "It looks up VGG19 layers the grader's small network does not have: your train_step uses "
    "the notebook's STYLE_LAYERS/CONTENT_LAYER; use its arguments style_layers and content_layer."
)


def _uses_notebook_layers(name: str, type_name: str, message: str) -> bool:
    """The learner checks' diagnosis of a train_step that reads the notebook's globals."""
    from nst_helpers.checks import GRADED_FUNCTIONS, exception_text_problem

    if name not in GRADED_FUNCTIONS or not type_name:
        return False
    return exception_text_problem(name, type_name, message) is not None


def exception_text(error: dict, located, name: str, filled_in: bool) -> str:
    """'raised ValueError at line 3 of your gram_matrix (cell 4, line 12). <hint>'."""
    type_name = error_type_name(error)
    what = type_name or "an exception of its own class"
    text = f"raised {what}{_error_location(error, located, name)}."
    message = str(error.get("message", ""))
    hint = ""
    if _uses_notebook_layers(name, type_name, message):
        hint = _NOTEBOOK_LAYERS_HINT
    elif is_none_error(error):
        hint = _NONE_VALUE_HINT if filled_in else NOT_IMPLEMENTED_HINT
    elif type_name in _HINTS_BY_TYPE:
        hint = _HINTS_BY_TYPE[type_name]
    elif type_name == "NameError":
        match = _NAME_ERROR.search(message)
        program = getattr(located, "program", None)
        # Only a name the learner's own code contains: never text chosen at run time.
        if match and program is not None and re.search(rf"\b{match[1]}\b", program.source):
            hint = (
                f"`{match[1]}` is not defined in the code the grader takes from your notebook "
                "(imports, constants and helpers at the top level of a cell)."
            )
        else:
            hint = "A name it uses is not defined."
    elif type_name in ("InvalidArgumentError", "ValueError", "TypeError") and _SHAPE_WORDS.search(
        message
    ):
        hint = _SHAPE_HINT
    return f"{text} {hint}".strip()


def is_filled_in(located, name: str) -> bool:
    """Whether the function holds code of the learner's (not only the release's blanks)."""
    program = getattr(located, "program", None)
    node = _function_node(program.source, name) if program is not None else None
    if node is None:
        return False
    if isinstance(node, ast.Assign):  # a lambda: learner code unless it returns a bare None
        body = node.value.body
        return not (isinstance(body, ast.Constant) and body.value is None)
    return not all(is_blank_statement(statement) for statement in node.body)


_VIOLATION_PATTERNS = (
    (re.compile(r"^write to .* outside its working directory$", re.S),
     "write a file outside its working directory"),
    (re.compile(r"^[a-z_.]+ on .* outside its working directory$", re.S),
     "change files outside its working directory"),
)  # fmt: skip


def violation_texts(violations, fixed_descriptions) -> list[str]:
    """Each blocked action once, as one of the grader's fixed descriptions."""
    texts: list[str] = []
    for violation in violations:
        violation = str(violation)
        text = violation if violation in fixed_descriptions else None
        for pattern, description in _VIOLATION_PATTERNS:
            if text is None and pattern.match(violation):
                text = description
        text = text or "do something the grader blocks"
        if text not in texts:
            texts.append(text)
    return texts


def delegated_names(delegated, known) -> list[str]:
    """The modules the sandbox says the learner's code tried to import, restricted to real
    modules of the package (``known``): nothing else the child reports is shown."""
    names = []
    for qualified in delegated:
        qualified = str(qualified)
        valid = re.fullmatch(r"[A-Za-z_][A-Za-z_0-9.]*", qualified) and qualified in known
        if valid and qualified not in names:
            names.append(qualified)
    return names


_INTEGER_TUPLE = re.compile(r"\(\s*\d+\s*(?:,\s*\d+\s*)*,?\s*\)")
_EQUALS_NUMBER = re.compile(r"\s*=\s*\d+\b")
_TIMES = re.compile(r"\b(\d+) times\b")


def hide_sizes(text: str) -> str:
    """Remove the shapes and sizes of hidden inputs: '(63, 63)' -> '(…)', ' = 240' -> ''.

    'N times' keeps only the fixed factors the messages name (2, 4, 16); others become '…'.
    """
    text = _INTEGER_TUPLE.sub("(…)", text)
    text = _EQUALS_NUMBER.sub("", text)
    return _TIMES.sub(lambda m: m[0] if m[1] in ("2", "4", "16") else "… times", text)


def one_line(text: str) -> str:
    """The text on one line (Markdown list items and table cells need it)."""
    return " ".join(str(text).split())
