"""The autograder behind ``nst grade`` and ``nst validate``.

Modules, one concern each:

- ``notebook``: read a submission (a notebook or a folder of notebooks) without trusting it.
- ``extract``: parse the cells; cut out a function's definition and the little code it needs.
- ``locate``: decide which definition of a graded function counts, and say why.
- ``delegation``: the static check that a graded function does not call the reference.
- ``runner`` / ``worker`` / ``sandbox``: run the learner's code in an isolated child process.
- ``score`` / ``rubric``: judge the child's plain arrays in the grader's own process, give points.
- ``report``: grades.csv, SUBMISSION.json and feedback files, written atomically.
- ``pipeline``: grade many submissions in parallel; ``validate``: the learner's own check.

Nothing here imports TensorFlow at module level: the supervisor stays light, and the
judge (``nst_helpers.checks``) is imported only when a verdict is needed.
"""
