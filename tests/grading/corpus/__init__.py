"""The grading corpus: submissions built from the real notebooks (see make_corpus)."""
