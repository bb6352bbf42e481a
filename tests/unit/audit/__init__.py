"""Tests of flowengine.audit (a package so module names cannot clash with other test folders)."""
