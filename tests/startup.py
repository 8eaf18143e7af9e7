"""Loaded first by `python3 course.py test` (pytest's ``-p tests.startup``), before any plugin imports nbformat.

jsonschema, which nbformat uses, imports ``rfc3987_syntax`` when it is installed (JupyterLab's
jupyter-events asks for jsonschema's format-nongpl extra), and that module builds a grammar at
import: a second of CPU in every test process (jsonschema issues #1392 and #1428). Notebook
validation never checks the IRI formats it serves, so the test processes do without it.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules: `import rfc3987_syntax` raises ImportError
