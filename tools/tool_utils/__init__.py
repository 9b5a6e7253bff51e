"""Pieces shared by the scripts in ``tools/``; not part of the installed package.

Scripts directly in ``tools/`` import them as ``tool_utils`` (Python puts a script's own
folder on ``sys.path``); scripts one folder down (``analysis_tools/``,
``model_converters/``) first put ``tools/`` on ``sys.path``.
"""
