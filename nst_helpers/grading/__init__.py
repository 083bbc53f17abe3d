"""The autograder behind ``nst grade`` and ``nst validate``.

Modules, one concern each:

- (reading a submission, cutting out a function's code and deciding which definition counts
  live in ``nst_helpers.course``: ``notebooks``, ``extract``, ``locate``.)
- ``delegation``: the static check that a graded function does not call the reference.
- ``runner`` / ``worker`` / ``sandbox``: run the learner's code in an isolated child process.
- ``score`` / ``rubric``: judge the child's plain arrays in the grader's own process, give points.
- ``report``: grades.csv, SUBMISSION.json and feedback files, written atomically.
- ``pipeline``: grade many submissions in parallel; ``validate``: the learner's own check.

Nothing here imports TensorFlow at module level: the supervisor stays light, and the
judge (``nst_helpers.checks``) is imported only when a verdict is needed.
"""
