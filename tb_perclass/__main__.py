"""`python -m tb_perclass` runs the `tb-perclass` command."""

import sys

from tb_perclass.cli import main

sys.exit(main())
