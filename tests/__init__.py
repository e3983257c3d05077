"""The test suite: fixtures in conftest.py, test doubles in tests/auxil/."""
