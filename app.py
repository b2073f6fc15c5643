"""Start the seeisp web page: ``python app.py [--host H] [--port P] ...``, the same as ``seeisp ui`` (same options)."""

import sys

from seeisp.cli import main

if __name__ == "__main__":
    sys.exit(main(["ui", *sys.argv[1:]]))
