"""Start the seeisp web page: ``python app.py`` (same as ``seeisp ui`` with its defaults)."""

from seeisp.web import build_app

if __name__ == "__main__":
    build_app().serve()
