"""`python -m tooln1 …` is the same as the `tooln1` console script.

Example:
    $ python -m tooln1 reward --input completions.jsonl
"""

import sys

from tooln1.cli import main

sys.exit(main())
