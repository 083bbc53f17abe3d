"""The autograder behind ``nst grade`` and ``nst validate``.

Modules, one concern each:

- (reading a submission, cutting out a function's code and deciding which definition counts
  live in ``nst_helpers.course``: ``notebooks``, ``extract``, ``locate``.)
- ``allowlist``: which ``nst_helpers`` names each graded function may use (from the registry);
- ``delegation``: the static check of a function's code against that allow-list;
- ``stubs``: the only ``nst_helpers`` a sandbox sees, made per exercise from the allow-list;
- ``sandbox``: bubblewrap's command line (or none, for trusted code);
- ``harness``: what runs inside: imports TensorFlow once, forks a namespaced child per task;
- ``runner``: the pool of sandboxes, the per-task socket, nonce, limits and bounded reads;
- ``score`` / ``rubric`` / ``learner_text``: judge the plain arrays in the grader's own
  process, give points, and say only what a learner may see;
- ``report``: grades.csv, reports/<id>/SUBMISSION.json and feedback, written atomically;
- ``pipeline``: grade many submissions in parallel; ``validate``: the learner's own check.

Nothing here imports TensorFlow at module level: the supervisor stays light, and the
judge (``nst_helpers.checks``) is imported only when a verdict is needed.
"""
