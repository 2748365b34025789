import sys

from reram.cli.main import main

sys.exit(main())
