"""The course's notebooks as files: the graded-cell convention, the release, learners' notebooks.

Modules, one concern each:

- ``cells``: the graded-cell convention (markers, blanks), read by everything else here;
- ``release``: make the student notebooks from the solution notebooks (``nst release``);
- ``notebooks``: read a learner's notebook or folder without trusting it;
- ``extract``: cut a function's definition, and the little code it needs, out of a notebook;
- ``locate``: decide which definition of a graded function counts, and say why.

The grader (``nst_helpers.grading``) builds on these; nothing here runs learner code.
"""
