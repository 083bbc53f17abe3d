"""Tests of the nst_helpers package; the layout mirrors the package."""
