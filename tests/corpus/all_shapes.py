"""Every shape script of the corpus, one after the other in one process (one fit each)."""
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
for name in sys.argv[1:]:
    runpy.run_path(str(HERE / f"{name}.py"), run_name="__main__")
