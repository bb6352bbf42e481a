"""Tests of the guard language (a package so module names cannot clash with other test folders)."""
