"""Test doubles shared by the tests; not part of the installed package.

``tests/conftest.py`` puts ``tests/`` on ``sys.path``, so a test imports them as
``from helpers.<module> import ...``.
"""
