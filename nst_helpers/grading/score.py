"""Judge what the child returned, in the grader's own process, and give points.

The verdict comes from ``nst_helpers.checks.judge`` called here, on the hidden cases the
grader made and on the plain arrays the child wrote: whatever the learner's code patched
in its own process (``np.allclose``, ``tf.reduce_sum``, the checks module) cannot change
it. Every reason shown to a learner passes through ``scrub``, which removes numbers that
could be hidden inputs or expected values (decimals, long integers, and the shapes and
sizes of the hidden inputs), and text the child controls (exception messages, type
names, paths) is reduced by ``learner_text`` to fixed wording before it gets here.

This module does not run learner code and does not write files.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from nst_helpers.course.locate import Located
from nst_helpers.grading import allowlist, learner_text
from nst_helpers.grading.harness import BLOCKED_DESCRIPTIONS
from nst_helpers.grading.learner_text import hide_sizes, one_line
from nst_helpers.grading.rubric import FunctionRule
from nst_helpers.grading.runner import Outcome

_NUMBER = re.compile(
    r"[-+]?\d+\.\d+(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?|[-+]?\d+\.?[eE][-+]?\d+"
    r"|\b\d{5,}\b|\b(?:nan|inf)\b",
    re.IGNORECASE,
)
#: An innermost bracket holding only numbers, as NumPy prints arrays: "[1. 2.5 -3e-04]".
_NUMERIC_BRACKET = re.compile(r"\[[\s,…0-9.eE+\-naif]*[0-9…][\s,…0-9.eE+\-naif]*\]")
_HIDDEN = "…"
_REASON_LIMIT = 700

#: Status of a function the grader failed to run (never the learner's fault; no grade).
GRADER_ERROR = "grader error"


def scrub(text: str) -> str:
    """Remove values (decimals, long integers, arrays of them) and sizes from a message.

    Shapes of integers become "(…)" and "= <number>" disappears (``hide_sizes``): the
    hidden inputs' dimensions are secret too. The result is one line.
    """
    text = hide_sizes(str(text))
    while True:
        shorter = _NUMERIC_BRACKET.sub("…", text)
        if shorter == text:
            break
        text = shorter
    text = _NUMBER.sub(_HIDDEN, text)
    text = re.sub(r"(?:…[\s,]*){2,}", "… ", text)
    text = one_line(text)
    if len(text) > _REASON_LIMIT:
        text = text[:_REASON_LIMIT] + " [cut]"
    return text


@dataclass
class FunctionResult:
    """The grade of one function, as it goes to SUBMISSION.json and the feedback."""

    name: str
    points: float
    max_points: float
    status: str  # passed | failed | not implemented | missing | syntax error | error |
    #              timeout | crashed | delegation | blocked | partial | grader error
    reason: str
    notebook: str | None = None
    cell: str | None = None
    definition: str = ""
    notes: list[str] = field(default_factory=list)
    cases_passed: int = 0
    cases_total: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def _base(rule: FunctionRule, located: Located) -> FunctionResult:
    return FunctionResult(
        name=rule.name,
        points=0.0,
        max_points=rule.points,
        status="failed",
        reason="",
        notebook=located.notebook,
        cell=located.cell,
        definition=located.explanation,
        notes=[scrub(n) for n in located.notes],
    )


def not_run(rule: FunctionRule, located: Located, status: str, reason: str) -> FunctionResult:
    """A function that was not run: missing, syntax error, or caught delegating."""
    result = _base(rule, located)
    result.status, result.reason = status, scrub(reason)
    return result


def _public_message(error: dict, public: bool) -> str:
    """The exception's own message, only on public cases (``nst validate``, the learner's run)."""
    if not public:
        return ""
    return f" ({error.get('type', 'Exception')}: {error.get('message', '')})"


def score(
    rule: FunctionRule,
    located: Located,
    outcome: Outcome,
    cases: list,
    partial_credit: bool,
    public: bool = False,
) -> FunctionResult:
    """Turn the child's outcome for one function into points and a reason.

    ``public``: the cases are the public ones (``nst validate``), so values may be shown.
    """
    from nst_helpers.checks import Returned, judge

    clean = str if public else scrub

    result = _base(rule, located)
    result.seconds = round(outcome.seconds, 3)
    result.cases_total = len(cases)
    name = rule.name
    filled_in = learner_text.is_filled_in(located, name)
    if outcome.state == GRADER_ERROR:
        result.status = GRADER_ERROR
        result.reason = (
            f"`{name}` was not graded: the grader failed before running your code "
            f"(not your code's fault): {outcome.detail}"
        )
        return result
    if outcome.state in ("timeout", "crashed"):
        result.status = outcome.state
        result.reason = clean(f"`{name}` did not finish: {outcome.detail}.")
        return result
    delegated = learner_text.delegated_names(outcome.delegated, allowlist.modules())
    if outcome.delegated:
        result.status = "delegation"
        result.reason = (
            f"`{name}` tried to import what it may not use "
            f"({', '.join(delegated) or 'part of nst_helpers'}). "
            "A graded function must be your own code: 0 points."
        )
        return result
    if outcome.notes:
        result.status = "failed"
        result.reason = (
            f"`{name}` returned a value far larger than the grader compares (millions of "
            "values): check the shape of what it returns."
        )
        return result
    if outcome.violations:
        violations = learner_text.violation_texts(outcome.violations, BLOCKED_DESCRIPTIONS)
        result.status = "blocked"
        result.reason = clean(
            f"`{name}` tried to {'; '.join(violations)}. A graded function must only "
            "compute its result: 0 points."
        )
        return result
    if outcome.definition_error:
        error = outcome.definition_error
        result.status = "error"
        text = learner_text.exception_text(error, located, name, filled_in)
        result.reason = clean(f"Defining `{name}` {text}{_public_message(error, public)}")
        return result
    reasons, statuses = [], []
    for index, case in enumerate(cases):
        record = outcome.cases[index] if index < len(outcome.cases) else None
        if record is None:
            reasons.append(f"`{name}` was not run on every case.")
            statuses.append("error")
            continue
        if record.get("error"):
            error = record["error"]
            text = learner_text.exception_text(error, located, name, filled_in)
            none_error = learner_text.is_none_error(error) and not filled_in
            statuses.append("not implemented" if none_error else "error")
            reasons.append(f"`{name}` {text}{_public_message(error, public)}")
            continue
        values = outcome.values[index] if index < len(outcome.values) else {}
        returned = Returned(
            kind=record["kind"],
            type_name=learner_text.value_type_name(record["type_name"]),
            value=values.get("value"),
            extra={k[len("extra.") :]: v for k, v in values.items() if k.startswith("extra.")},
        )
        try:
            message = judge(name, case, returned)
        except Exception as error:  # noqa: BLE001 - a strange value must not stop the run
            message = (
                f"`{name}` returned a value the grader cannot compare ({type(error).__name__})."
            )
        if message is None:
            statuses.append("passed")
            reasons.append("")
        elif returned.kind == "none" and filled_in:
            statuses.append("failed")
            reasons.append(
                f"`{name}` returned None although it holds your code: you probably forgot to "
                "return the result (`return ...` at the end of the function)."
            )
        else:
            statuses.append("not implemented" if returned.kind == "none" else "failed")
            reasons.append(message)
    passed = statuses.count("passed")
    result.cases_passed = passed
    if passed == len(cases) and cases:
        result.points, result.status = rule.points, "passed"
        which = "public" if public else "hidden"
        result.reason = f"`{name}` passed all {len(cases)} {which} test case(s)."
        return result
    first_failure = next(i for i, s in enumerate(statuses) if s != "passed")
    result.status = statuses[first_failure]
    result.reason = clean(reasons[first_failure])
    if partial_credit and passed:
        result.points = round(rule.points * passed / len(cases), 2)
        result.status = "partial"
    return result
